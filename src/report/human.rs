//! Figures as a person reads them: memory in KiB/MiB/GiB, as many decimals
//! as the spread of the data shows (two significant digits of it), changes
//! that never read `-0.00%`. Only the
//! human formats use this; JSON and CSV keep the exact values.

const KIB: f64 = 1024.0;

/// How the figures of one metric are written in one row or block: a unit
/// (scaled for memory), a divisor and the decimals.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub unit: String,
    div: f64,
    decimals: usize,
}

/// Decimals that show two significant digits of `spread` (0 .. 6); none
/// given (or zero): `fallback`.
pub fn decimals_for(spread: Option<f64>, fallback: usize) -> usize {
    match spread.filter(|s| s.is_finite() && *s > 0.0) {
        Some(s) => (1.0 - s.log10().floor()).clamp(0.0, 6.0) as usize,
        None => fallback,
    }
}

/// The binary unit a byte count near `typical` reads best in, GiB from
/// `gib_from` GiB on.
fn byte_scale(typical: f64, gib_from: f64) -> (&'static str, f64) {
    let t = typical.abs();
    if t >= gib_from * KIB * KIB * KIB {
        ("GiB", KIB * KIB * KIB)
    } else if t >= KIB * KIB {
        ("MiB", KIB * KIB)
    } else if t >= KIB {
        ("KiB", KIB)
    } else {
        ("bytes", 1.0)
    }
}

impl Shown {
    /// How to write `metric`'s figures near `typical` with `spread` (a
    /// standard deviation or interval half-width, in the metric's unit).
    pub fn of(metric: &str, typical: f64, spread: Option<f64>) -> Shown {
        let m = crate::metrics::lookup(metric);
        let unit = m.map_or("", |m| m.unit);
        let fallback = m.map_or(2, |m| m.decimals);
        if unit == "bytes" {
            // MiB up to 10 GiB, so that a change of a few MiB shows.
            let (unit, div) = byte_scale(typical, 10.0);
            let fallback = if div == 1.0 { 0 } else { 2 };
            return Shown {
                unit: unit.to_string(),
                div,
                // Memory is read to 1/100 of its unit at most.
                decimals: decimals_for(spread.map(|s| s / div), fallback).min(2),
            };
        }
        Shown {
            unit: unit.to_string(),
            div: 1.0,
            decimals: decimals_for(spread, fallback),
        }
    }

    /// One figure, without its unit.
    pub fn fmt(&self, v: f64) -> String {
        if !v.is_finite() {
            return v.to_string();
        }
        format!("{:.*}", self.decimals, v / self.div)
    }

    /// One figure with its unit (`1.22 GiB`, `812 t/s`).
    pub fn with_unit(&self, v: f64) -> String {
        if self.unit.is_empty() {
            self.fmt(v)
        } else {
            format!("{} {}", self.fmt(v), self.unit)
        }
    }
}

/// A byte count in its binary unit with three significant digits
/// (`1.22 GiB`, `545 MiB`, `512 bytes`).
pub fn bytes(v: u64) -> String {
    let (unit, div) = byte_scale(v as f64, 1.0);
    let x = v as f64 / div;
    let decimals = if div == 1.0 || x >= 100.0 {
        0
    } else if x >= 10.0 {
        1
    } else {
        2
    };
    format!("{x:.decimals$} {unit}")
}

/// A signed change in percent with `decimals`; a change that rounds to
/// zero is `0.00%`, never `-0.00%`.
pub fn pct(v: f64, decimals: usize) -> String {
    let s = format!("{v:+.decimals$}%");
    let zero = s[1..s.len() - 1].chars().all(|c| c == '0' || c == '.');
    if zero {
        s[1..].to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_reads_in_binary_units() {
        assert_eq!(bytes(1_312_145_408), "1.22 GiB");
        assert_eq!(bytes(545_325_056), "520 MiB");
        assert_eq!(bytes(20 * 1024 * 1024 + 512 * 1024), "20.5 MiB");
        assert_eq!(bytes(512), "512 bytes");
    }

    #[test]
    fn decimals_show_two_digits_of_the_spread() {
        // J/token 0.37 with a spread of 0.004: four decimals, not 0.37 +- 0.00.
        let s = Shown::of("gpu_j_per_token", 0.3712, Some(0.0041));
        assert_eq!(s.fmt(0.37123), "0.3712");
        assert_eq!(s.unit, "J/token");
        // t/s 742 with a spread of 11: whole numbers.
        assert_eq!(Shown::of("eval_tps", 742.0, Some(11.0)).fmt(741.97), "742");
        // No spread known: the registry's decimals.
        assert_eq!(Shown::of("eval_tps", 742.0, None).fmt(741.971), "741.97");
    }

    #[test]
    fn a_memory_row_is_scaled_once() {
        let s = Shown::of("peak_rss_bytes", 1_312_133_120.0, Some(65_000.0));
        assert_eq!(s.unit, "MiB");
        assert_eq!(s.fmt(1_312_133_120.0), "1251.35");
        assert_eq!(s.fmt(1_312_204_800.0), "1251.42");
        let s = Shown::of("gpu_mem_bytes", 20e9, None);
        assert_eq!(s.with_unit(20e9), "18.63 GiB");
    }

    #[test]
    fn no_negative_zero_change() {
        assert_eq!(pct(-0.001, 2), "0.00%");
        assert_eq!(pct(0.0, 2), "0.00%");
        assert_eq!(pct(-11.03, 2), "-11.03%");
        assert_eq!(pct(14.6, 1), "+14.6%");
    }
}
