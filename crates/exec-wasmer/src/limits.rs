//! A cap on linear memory: Wasmer's default tunables with every memory's
//! maximum lowered to the cap, so `memory.grow` past it fails inside the
//! guest (its `malloc` returns NULL) instead of the host running out.

use std::ptr::NonNull;

use wasmer::sys::vm::{MemoryError, MemoryStyle, TableStyle, VMMemory, VMMemoryDefinition, VMTable, VMTableDefinition};
use wasmer::sys::{BaseTunables, Tunables};
use wasmer::{MemoryType, Pages, TableType, WASM_PAGE_SIZE};

pub struct LimitingTunables {
    base: BaseTunables,
    limit: Pages,
}

impl LimitingTunables {
    pub fn new(max_bytes: u64) -> LimitingTunables {
        let pages = u32::try_from(max_bytes / WASM_PAGE_SIZE as u64).unwrap_or(u32::MAX);
        LimitingTunables { base: BaseTunables::new(), limit: Pages(pages) }
    }

    fn capped(&self, ty: &MemoryType) -> MemoryType {
        let mut capped = *ty;
        capped.maximum = Some(ty.maximum.map_or(self.limit, |m| m.min(self.limit)));
        capped
    }
}

impl Tunables for LimitingTunables {
    fn memory_style(&self, memory: &MemoryType) -> MemoryStyle {
        self.base.memory_style(&self.capped(memory))
    }

    fn table_style(&self, table: &TableType) -> TableStyle {
        self.base.table_style(table)
    }

    fn create_host_memory(&self, ty: &MemoryType, style: &MemoryStyle) -> Result<VMMemory, MemoryError> {
        self.base.create_host_memory(&self.capped(ty), style)
    }

    unsafe fn create_vm_memory(
        &self,
        ty: &MemoryType,
        style: &MemoryStyle,
        vm_definition_location: NonNull<VMMemoryDefinition>,
    ) -> Result<VMMemory, MemoryError> {
        // SAFETY: forwarded unchanged from the engine's own call.
        unsafe { self.base.create_vm_memory(&self.capped(ty), style, vm_definition_location) }
    }

    fn create_host_table(&self, ty: &TableType, style: &TableStyle) -> Result<VMTable, String> {
        self.base.create_host_table(ty, style)
    }

    unsafe fn create_vm_table(
        &self,
        ty: &TableType,
        style: &TableStyle,
        vm_definition_location: NonNull<VMTableDefinition>,
    ) -> Result<VMTable, String> {
        // SAFETY: forwarded unchanged from the engine's own call.
        unsafe { self.base.create_vm_table(ty, style, vm_definition_location) }
    }
}
