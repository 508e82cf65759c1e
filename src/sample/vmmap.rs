//! macOS `vmmap --summary <pid>`: the process's physical footprint (and its
//! peak) and the GPU-related regions of the region table (FORMATS.md 5).
//!
//! vmmap takes about a second per call, so it is called about once a second.
//! Sizes are binary (`5008K`, `982.2M`, `15.8G`, or bare bytes `824`).
//! The GPU memory figure is the RESIDENT sum of `IOAccelerator*`,
//! `IOSurface` and `owned unmapped (graphics)`; llama.cpp's Metal buffers may
//! also live in host memory (MALLOC_LARGE, mapped file), which the footprint
//! covers.

pub use crate::model::sampled::GpuRegion;

use super::{Sample, SampleParseError, SourceKind};

/// The regions summed into the GPU memory figure, as users read them
/// (`vmmap <pid> | grep IOAccelerator`): every `IOAccelerator*` row,
/// `IOSurface` and `owned unmapped (graphics)`.
pub const GPU_REGIONS: &str = "IOAccelerator*, IOSurface, owned unmapped (graphics)";

/// argv after the program.
pub fn args(pid: u32) -> Vec<String> {
    vec!["--summary".to_string(), pid.to_string()]
}

/// `824` -> 824, `5008K` -> 5008 KiB, `982.2M`, `15.8G`, `1.5T`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.chars().last()? {
        'K' => (&s[..s.len() - 1], 1u64 << 10),
        'M' => (&s[..s.len() - 1], 1u64 << 20),
        'G' => (&s[..s.len() - 1], 1u64 << 30),
        'T' => (&s[..s.len() - 1], 1u64 << 40),
        _ => (s, 1),
    };
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let v: f64 = num.parse().ok()?;
    Some((v * mult as f64).round() as u64)
}

/// True for the regions that hold GPU-visible memory.
pub fn is_gpu_region(name: &str) -> bool {
    name.starts_with("IOAccelerator") || name == "IOSurface" || name == "owned unmapped (graphics)"
}

/// One row of the region table: name and its size columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub name: String,
    pub sizes: Vec<u64>,
}

/// Splits `Memory Tag 22   64.0M 32K ... 1   note` into name and `n` sizes:
/// the name is the shortest prefix followed by exactly `n` sizes and a count.
pub fn parse_region_row(line: &str, n: usize) -> Option<Region> {
    let tokens: Vec<&str> = line.split_whitespace().collect();
    for k in 1..tokens.len() {
        let cols = tokens.get(k..k + n)?;
        let count_ok = tokens
            .get(k + n)
            .is_some_and(|c| c.chars().all(|ch| ch.is_ascii_digit()));
        let sizes: Option<Vec<u64>> = cols.iter().map(|c| parse_size(c)).collect();
        if let (true, Some(sizes)) = (count_ok, sizes) {
            return Some(Region {
                name: tokens[..k].join(" "),
                sizes,
            });
        }
    }
    None
}

/// The rows of the region table (between the `REGION TYPE` header and the
/// closing `===` line), with the index of the RESIDENT column.
pub fn region_table(text: &str) -> (Vec<Region>, Option<usize>) {
    let lines: Vec<&str> = text.lines().collect();
    let Some(h) = lines.iter().position(|l| l.starts_with("REGION TYPE")) else {
        return (Vec::new(), None);
    };
    let n = lines[h].split_whitespace().filter(|w| *w == "SIZE").count();
    let resident = h
        .checked_sub(1)
        .and_then(|i| lines[i].split_whitespace().position(|w| w == "RESIDENT"));
    let mut rows = Vec::new();
    let mut separators = 0;
    for l in &lines[h + 1..] {
        if l.starts_with("====") {
            separators += 1;
            if separators == 2 {
                break;
            }
            continue;
        }
        rows.extend(parse_region_row(l, n));
    }
    (rows, resident)
}

fn footprint(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix(key))
        .and_then(|rest| parse_size(rest.trim()))
}

/// One `vmmap --summary` output.
pub fn parse_summary(text: &str) -> Result<Sample, SampleParseError> {
    let phys = footprint(text, "Physical footprint:");
    let peak = footprint(text, "Physical footprint (peak):");
    if phys.is_none() && peak.is_none() && !text.contains("REGION TYPE") {
        return Err(SampleParseError(
            "no 'Physical footprint:' line and no region table: not vmmap --summary output"
                .to_string(),
        ));
    }
    let (rows, resident) = region_table(text);
    let regions = gpu_regions(&rows, resident);
    let gpu_mem = match resident {
        Some(_) if !rows.is_empty() => Some(
            regions
                .iter()
                .fold(0u64, |acc, r| acc.saturating_add(r.resident_bytes)),
        ),
        _ => None,
    };
    Ok(Sample {
        source: Some(SourceKind::Vmmap),
        phys_footprint_bytes: phys,
        phys_footprint_peak_bytes: peak,
        gpu_mem_bytes: gpu_mem,
        gpu_regions: regions,
        ..Default::default()
    })
}

/// The GPU-related rows (see [`GPU_REGIONS`]) with their RESIDENT sizes;
/// empty without a RESIDENT column.
fn gpu_regions(rows: &[Region], resident: Option<usize>) -> Vec<GpuRegion> {
    let Some(i) = resident else {
        return Vec::new();
    };
    rows.iter()
        .filter(|r| is_gpu_region(&r.name))
        .filter_map(|r| {
            Some(GpuRegion {
                name: r.name.clone(),
                resident_bytes: *r.sizes.get(i)?,
                virtual_bytes: r.sizes.first().copied(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn huge_gpu_region_sizes_overflowed_the_sum_in_debug_builds() {
        let big = OWN.replacen(
            "512.0M   512.0M",
            "999999999999999999999G   999999999999999999999G",
            1,
        );
        let s = parse_summary(&big).unwrap();
        assert_eq!(s.gpu_mem_bytes, Some(u64::MAX));
    }

    use super::*;
    use crate::fixtures::read_fixture;

    const OWN: &str = include_str!("../../fixtures/sample/vmmap_summary_llama.txt");

    #[test]
    fn sizes_are_binary() {
        assert_eq!(parse_size("824"), Some(824));
        assert_eq!(parse_size("5008K"), Some(5008 * 1024));
        assert_eq!(
            parse_size("982.2M"),
            Some((982.2f64 * 1048576.0).round() as u64)
        );
        assert_eq!(
            parse_size("15.8G"),
            Some((15.8f64 * 1073741824.0).round() as u64)
        );
        assert_eq!(parse_size("K"), None);
        assert_eq!(parse_size("1.2.3M"), None);
        assert_eq!(parse_size("-5K"), None);
    }

    #[test]
    fn rows_with_numbers_in_their_names() {
        let r = parse_region_row(
            "Memory Tag 22                     64.0M      32K      32K       0K       0K       0K       0K        1 ",
            7,
        )
        .unwrap();
        assert_eq!(r.name, "Memory Tag 22");
        assert_eq!(r.sizes[1], 32 * 1024);
        let r = parse_region_row("MALLOC_LARGE                       8.9G     7.8G     7.8G     1.1G       0K       0K       0K      106         see MALLOC ZONE table below", 7).unwrap();
        assert_eq!(r.name, "MALLOC_LARGE");
        assert_eq!(parse_region_row("===========", 7), None);
    }

    #[test]
    fn own_fixture_exact() {
        let s = parse_summary(OWN).unwrap();
        assert_eq!(s.phys_footprint_bytes, Some(3 * 1024 * 1024 * 1024 / 2));
        assert_eq!(s.phys_footprint_peak_bytes, Some(2 * 1024 * 1024 * 1024));
        // IOAccelerator 64K + IOAccelerator (graphics) 512.0M + IOSurface 8192K, resident.
        assert_eq!(
            s.gpu_mem_bytes,
            Some(64 * 1024 + 512 * 1048576 + 8192 * 1024)
        );
        let r = |name: &str, resident: u64, virt: u64| GpuRegion {
            name: name.to_string(),
            resident_bytes: resident,
            virtual_bytes: Some(virt),
        };
        assert_eq!(
            s.gpu_regions,
            [
                r("IOAccelerator", 64 * 1024, 64 * 1024),
                r("IOAccelerator (graphics)", 512 * 1048576, 640 * 1048576),
                r("IOSurface", 8192 * 1024, 8192 * 1024),
            ]
        );
    }

    #[test]
    fn owned_unmapped_graphics_and_rows_without_trailing_spaces() {
        let s = parse_summary(&read_fixture("sample/vmmap_summary_owned_unmapped.txt")).unwrap();
        assert_eq!(s.phys_footprint_bytes, parse_size("6.2G"));
        assert_eq!(s.phys_footprint_peak_bytes, parse_size("7.75G"));
        // RESIDENT column: IOAccelerator 128K + IOAccelerator (graphics) 2048K
        // + IOSurface 16K (no trailing space) + owned unmapped (graphics) 40.0M.
        assert_eq!(
            s.gpu_mem_bytes,
            Some((128 + 2048 + 16) * 1024 + 40 * 1048576)
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_summary("hello\nworld").is_err());
        assert!(parse_summary("Physical footprint:  12Q\n").is_err());
        let s =
            parse_summary("Physical footprint:  12Q\nPhysical footprint (peak):  3K\n").unwrap();
        assert_eq!(s.phys_footprint_bytes, None);
        assert_eq!(s.phys_footprint_peak_bytes, Some(3072));
    }
}
