//! The `scratch` image: an empty root filesystem (one directory, for the
//! kernel's mount point), built in memory, named after its content.

use sha2::{Digest, Sha256};

/// A tar archive holding the directory `edgebench/`, with fixed metadata so
/// that its bytes, and so the image's name, never change.
pub fn tarball() -> Vec<u8> {
    let mut header = [0u8; 512];
    put(&mut header[0..100], b"edgebench/");
    put(&mut header[100..108], b"0000755\0");
    put(&mut header[108..116], b"0000000\0");
    put(&mut header[116..124], b"0000000\0");
    put(&mut header[124..136], b"00000000000\0");
    put(&mut header[136..148], b"00000000000\0");
    header[156] = b'5';
    put(&mut header[257..263], b"ustar\0");
    put(&mut header[263..265], b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    put(&mut header[148..156], format!("{sum:06o}\0 ").as_bytes());
    let mut tar = header.to_vec();
    tar.extend_from_slice(&[0u8; 1024]);
    tar
}

pub fn image_name() -> String {
    let digest = Sha256::digest(tarball());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("edgebench/scratch:{hex}")
}

fn put(field: &mut [u8], value: &[u8]) {
    field[..value.len()].copy_from_slice(value);
}
