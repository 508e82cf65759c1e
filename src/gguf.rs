//! Reading a GGUF file's header without loading it: enough to refuse a file
//! that is not GGUF or that is shorter than its header promises (an
//! interrupted download) before any binary is launched, and to learn the
//! model's architecture, name and tensor bytes (the bytes a decode step
//! reads, used for the bandwidth roofline).
//!
//! Layout (GGUF v2/v3): magic "GGUF", u32 version, u64 tensor count, u64
//! metadata count, metadata key/values, tensor infos (name, dims, type,
//! offset), padding to `general.alignment` (default 32), tensor data.

use std::io::{BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

/// What the header says about the model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GgufInfo {
    pub version: u32,
    pub tensor_count: u64,
    pub architecture: Option<String>,
    pub name: Option<String>,
    /// Bytes of tensor data, when every tensor type has a known size.
    pub tensor_bytes: Option<u64>,
    /// Where the tensor data starts.
    pub data_offset: u64,
    /// `<architecture>.context_length`: the context the model was trained for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GgufError {
    #[error("not a GGUF file (it starts with {0:?})")]
    Magic(String),
    #[error("unsupported GGUF version {0}")]
    Version(u32),
    #[error("the header is cut short: {0}")]
    Truncated(String),
    #[error("the header is damaged: {0}")]
    Damaged(String),
    #[error("the file is {actual} bytes but its header promises at least {needed} (an interrupted download?)")]
    Short { needed: u64, actual: u64 },
}

/// Upper bounds that keep a damaged header from making us allocate or loop
/// without end.
const MAX_STRING: u64 = 1 << 24;
const MAX_ITEMS: u64 = 1 << 24;
const MAX_DIMS: u32 = 8;

struct Reader<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> Reader<R> {
    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let mut b = [0u8; N];
        self.inner.read_exact(&mut b).map_err(|_| {
            GgufError::Truncated(format!("ends inside {what} at byte {}", self.pos))
        })?;
        self.pos += N as u64;
        Ok(b)
    }
    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.bytes::<4>(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.bytes::<8>(what)?))
    }
    fn skip(&mut self, n: u64, what: &str) -> Result<(), GgufError> {
        let got = std::io::copy(&mut (&mut self.inner).take(n), &mut std::io::sink())
            .map_err(|e| GgufError::Truncated(e.to_string()))?;
        self.pos += got;
        if got < n {
            return Err(GgufError::Truncated(format!(
                "ends inside {what} at byte {}",
                self.pos
            )));
        }
        Ok(())
    }
    fn string(&mut self, what: &str) -> Result<String, GgufError> {
        let len = self.u64(what)?;
        if len > MAX_STRING {
            return Err(GgufError::Damaged(format!("{what}: string of {len} bytes")));
        }
        let mut buf = vec![0u8; len as usize];
        self.inner.read_exact(&mut buf).map_err(|_| {
            GgufError::Truncated(format!("ends inside {what} at byte {}", self.pos))
        })?;
        self.pos += len;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    }
}

/// Size in bytes of a scalar metadata type, or None for string/array.
fn scalar_size(t: u32) -> Option<u64> {
    match t {
        0 | 1 | 7 => Some(1), // u8, i8, bool
        2 | 3 => Some(2),
        4..=6 => Some(4),   // u32, i32, f32
        10..=12 => Some(8), // u64, i64, f64
        _ => None,
    }
}

/// Whether a key's unsigned integer value is kept (as text) rather than skipped.
fn wanted_number(key: &str) -> bool {
    key == "general.alignment" || key.ends_with(".context_length")
}

/// Reads (and mostly skips) one metadata value; returns it when it is a
/// string or a wanted unsigned integer.
fn value<R: Read>(r: &mut Reader<R>, t: u32, key: &str) -> Result<Option<String>, GgufError> {
    if let Some(n) = scalar_size(t) {
        match t {
            4 if wanted_number(key) => return Ok(Some(r.u32(key)?.to_string())),
            10 if wanted_number(key) => return Ok(Some(r.u64(key)?.to_string())),
            _ => {}
        }
        r.skip(n, key)?;
        return Ok(None);
    }
    match t {
        8 => r.string(key).map(Some),
        9 => {
            let item = r.u32(key)?;
            let count = r.u64(key)?;
            if count > MAX_ITEMS * 16 {
                return Err(GgufError::Damaged(format!("{key}: array of {count} items")));
            }
            match scalar_size(item) {
                Some(n) => r.skip(n * count, key)?,
                None if item == 8 => (0..count).try_for_each(|_| r.string(key).map(|_| ()))?,
                None => return Err(GgufError::Damaged(format!("{key}: array of type {item}"))),
            }
            Ok(None)
        }
        other => Err(GgufError::Damaged(format!(
            "{key}: unknown value type {other}"
        ))),
    }
}

/// (elements per block, bytes per block) of the ggml tensor types whose
/// layout is fixed; None for types not listed (the size check is then skipped).
fn type_size(t: u32) -> Option<(u64, u64)> {
    Some(match t {
        0 => (1, 4),       // F32
        1 | 30 => (1, 2),  // F16, BF16
        2 => (32, 18),     // Q4_0
        3 => (32, 20),     // Q4_1
        6 => (32, 22),     // Q5_0
        7 => (32, 24),     // Q5_1
        8 => (32, 34),     // Q8_0
        10 => (256, 84),   // Q2_K
        11 => (256, 110),  // Q3_K
        12 => (256, 144),  // Q4_K
        13 => (256, 176),  // Q5_K
        14 => (256, 210),  // Q6_K
        20 => (32, 18),    // IQ4_NL
        23 => (256, 136),  // IQ4_XS
        24 => (1, 1),      // I8
        25 => (1, 2),      // I16
        26 => (1, 4),      // I32
        27 | 28 => (1, 8), // I64, F64
        _ => return None,
    })
}

struct Tensor {
    offset: u64,
    bytes: Option<u64>,
}

fn tensor_info<R: Read>(r: &mut Reader<R>) -> Result<Tensor, GgufError> {
    let name = r.string("a tensor name")?;
    let dims = r.u32(&name)?;
    if dims > MAX_DIMS {
        return Err(GgufError::Damaged(format!(
            "tensor '{name}' has {dims} dimensions"
        )));
    }
    let mut elements: u64 = 1;
    for _ in 0..dims {
        elements = elements.saturating_mul(r.u64(&name)?);
    }
    let ty = r.u32(&name)?;
    let offset = r.u64(&name)?;
    let bytes = type_size(ty).map(|(blk, size)| elements.div_ceil(blk).saturating_mul(size));
    Ok(Tensor { offset, bytes })
}

/// Reads the header of the GGUF file at `path` and checks that the file
/// holds all the tensor data the header describes.
pub fn inspect(path: &Path) -> Result<GgufInfo, GgufError> {
    let file = std::fs::File::open(path).map_err(|e| GgufError::Truncated(e.to_string()))?;
    let actual = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut r = Reader {
        inner: BufReader::new(file),
        pos: 0,
    };
    let info = read_header(&mut r)?;
    let (info, needed) = info;
    if needed > actual {
        return Err(GgufError::Short { needed, actual });
    }
    Ok(info)
}

fn read_header<R: Read>(r: &mut Reader<R>) -> Result<(GgufInfo, u64), GgufError> {
    let magic = r.bytes::<4>("the magic")?;
    if &magic != b"GGUF" {
        return Err(GgufError::Magic(
            String::from_utf8_lossy(&magic).escape_debug().to_string(),
        ));
    }
    let version = r.u32("the version")?;
    if !(2..=3).contains(&version) {
        return Err(GgufError::Version(version));
    }
    let tensor_count = r.u64("the tensor count")?;
    let kv_count = r.u64("the metadata count")?;
    if tensor_count > MAX_ITEMS || kv_count > MAX_ITEMS {
        return Err(GgufError::Damaged(format!(
            "{tensor_count} tensors, {kv_count} metadata keys"
        )));
    }
    let mut info = GgufInfo {
        version,
        tensor_count,
        ..Default::default()
    };
    let mut alignment = 32u64;
    for _ in 0..kv_count {
        let key = r.string("a metadata key")?;
        let t = r.u32(&key)?;
        let v = value(r, t, &key)?;
        match key.as_str() {
            "general.architecture" => info.architecture = v,
            "general.name" => info.name = v,
            k if k.ends_with(".context_length") => {
                // Only the architecture's own key (it comes after general.architecture).
                let own = info
                    .architecture
                    .as_deref()
                    .map(|a| format!("{a}.context_length"));
                if own.as_deref().is_none_or(|o| o == k) {
                    info.context_length = v.and_then(|s| s.parse().ok());
                }
            }
            "general.alignment" => {
                alignment = v
                    .and_then(|s| s.parse().ok())
                    .filter(|a| *a > 0)
                    .unwrap_or(32)
            }
            _ => {}
        }
    }
    let tensors: Vec<Tensor> = (0..tensor_count)
        .map(|_| tensor_info(r))
        .collect::<Result<_, _>>()?;
    info.data_offset = r.pos.div_ceil(alignment) * alignment;
    info.tensor_bytes = tensors
        .iter()
        .try_fold(0u64, |acc, t| Some(acc.saturating_add(t.bytes?)));
    // The data must reach at least the start of every tensor, and the end of
    // those whose size is known.
    let needed = tensors
        .iter()
        .map(|t| t.offset.saturating_add(t.bytes.unwrap_or(0)))
        .max()
        .unwrap_or(0)
        .saturating_add(info.data_offset);
    Ok((info, needed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny GGUF v3: one string key, one F32 tensor of `n` elements.
    pub fn tiny_gguf(n: u64, data_len: usize) -> Vec<u8> {
        let mut v = b"GGUF".to_vec();
        v.extend(3u32.to_le_bytes());
        v.extend(1u64.to_le_bytes()); // tensors
        v.extend(1u64.to_le_bytes()); // kv
        let key = b"general.architecture";
        v.extend((key.len() as u64).to_le_bytes());
        v.extend(key);
        v.extend(8u32.to_le_bytes());
        v.extend(5u64.to_le_bytes());
        v.extend(b"llama");
        v.extend(1u64.to_le_bytes());
        v.extend(b"w");
        v.extend(1u32.to_le_bytes());
        v.extend(n.to_le_bytes());
        v.extend(0u32.to_le_bytes()); // F32
        v.extend(0u64.to_le_bytes()); // offset
        while v.len() % 32 != 0 {
            v.push(0);
        }
        v.extend(std::iter::repeat_n(0u8, data_len));
        v
    }

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), bytes).unwrap();
        f
    }

    #[test]
    fn a_complete_file_is_read() {
        let f = write(&tiny_gguf(4, 16));
        let info = inspect(f.path()).unwrap();
        assert_eq!(info.architecture.as_deref(), Some("llama"));
        assert_eq!(info.tensor_bytes, Some(16));
        assert_eq!(info.data_offset, 128);
    }

    #[test]
    fn the_context_length_is_read() {
        let mut v = b"GGUF".to_vec();
        v.extend(3u32.to_le_bytes());
        v.extend(0u64.to_le_bytes()); // tensors
        v.extend(3u64.to_le_bytes()); // kv
        let mut kv = |key: &str, t: u32, val: &[u8]| {
            v.extend((key.len() as u64).to_le_bytes());
            v.extend(key.as_bytes());
            v.extend(t.to_le_bytes());
            v.extend(val);
        };
        let mut arch = 5u64.to_le_bytes().to_vec();
        arch.extend(b"llama");
        kv("general.architecture", 8, &arch);
        kv("clip.context_length", 4, &77u32.to_le_bytes());
        kv("llama.context_length", 4, &2048u32.to_le_bytes());
        v.resize(v.len().div_ceil(32) * 32, 0); // the (empty) data starts aligned
        let f = write(&v);
        assert_eq!(inspect(f.path()).unwrap().context_length, Some(2048));
    }

    #[test]
    fn a_file_shorter_than_its_header_promises_is_refused() {
        let f = write(&tiny_gguf(4, 15));
        assert_eq!(
            inspect(f.path()),
            Err(GgufError::Short {
                needed: 144,
                actual: 143
            })
        );
    }

    #[test]
    fn a_cut_header_and_wrong_magic_are_refused() {
        let full = tiny_gguf(4, 16);
        let f = write(&full[..30]);
        assert!(matches!(inspect(f.path()), Err(GgufError::Truncated(_))));
        let f = write(b"PK\x03\x04rest");
        assert!(matches!(inspect(f.path()), Err(GgufError::Magic(_))));
    }

    #[test]
    fn absurd_counts_are_damage_not_allocation() {
        let mut v = b"GGUF".to_vec();
        v.extend(3u32.to_le_bytes());
        v.extend(u64::MAX.to_le_bytes());
        v.extend(0u64.to_le_bytes());
        let f = write(&v);
        assert!(matches!(inspect(f.path()), Err(GgufError::Damaged(_))));
    }
}
