//! SHA-256 as lower-case hex: how the host names every artifact it builds
//! and the harness checks every file before it runs anything.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// The sha256 of a file's bytes, read in 64 KiB pieces.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        // FIPS 180-2's test vector, so this is SHA-256 and its hex form.
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let dir = std::env::temp_dir().join(format!("edgebench-digest-{}", std::process::id()));
        std::fs::write(&dir, vec![b'a'; 200_000]).unwrap();
        let from_file = sha256_file(&dir);
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(from_file.unwrap(), sha256_hex(&vec![b'a'; 200_000]));
    }
}
