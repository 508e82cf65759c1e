//! `xctrace export --xpath '/trace-toc/run[@number="1"]/data/table[@schema=
//! "metal-gpu-intervals"]'`: a `<schema>` listing the columns (`<col>` with a
//! `<mnemonic>`), then `<row>`s whose child elements are the values in `<col>`
//! order. An element with `id="N"` defines a value (its text, else its `fmt`
//! attribute, else its first child's value), also when nested inside another; `<x ref="N"/>` repeats
//! it; `<sentinel/>` is an empty value. Times are integer nanoseconds.
//!
//! The summary groups intervals by their label column (the first whose
//! mnemonic holds `label`, else `name`): a command-line recording names
//! encoders and command buffers, not kernels. GPU busy time is the union of
//! the intervals, not their sum.

use std::collections::{BTreeMap, HashMap};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{bad, summarize, KernelSummary, ProfileError};

/// An open value element: (id, text so far, fmt, first child's value).
type Open = (Option<String>, String, Option<String>, Option<String>);

#[derive(Default)]
struct State {
    cols: Vec<String>,
    in_mnemonic: bool,
    /// Values by id, for refs.
    ids: HashMap<String, String>,
    /// Open value elements inside a row.
    stack: Vec<Open>,
    in_row: bool,
    row: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| AsRef::<str>::as_ref(&a.key) == key)
        .map(|a| unescape(&a.value))
}

/// The five predefined XML entities (all an export uses).
fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

impl State {
    fn open(&mut self, e: &BytesStart<'_>, empty: bool) {
        match e.name().as_ref() {
            "mnemonic" => self.in_mnemonic = !empty,
            "row" => {
                self.in_row = !empty;
                self.row.clear();
            }
            _ if self.in_row => {
                if let Some(r) = attr(e, "ref") {
                    let v = self.ids.get(&r).cloned().unwrap_or_default();
                    self.close_value(None, v);
                } else {
                    self.stack
                        .push((attr(e, "id"), String::new(), attr(e, "fmt"), None));
                    if empty {
                        self.end();
                    }
                }
            }
            _ => {}
        }
    }

    /// A finished value: registered under its id; a top-level one is a column.
    fn close_value(&mut self, id: Option<String>, v: String) {
        if let Some(id) = id {
            self.ids.insert(id, v.clone());
        }
        match self.stack.last_mut() {
            None => self.row.push(v),
            Some(parent) => {
                parent.3.get_or_insert(v);
            }
        }
    }

    fn end(&mut self) {
        if let Some((id, text, fmt, child)) = self.stack.pop() {
            let v = match (text.trim(), fmt, child) {
                ("", Some(f), _) => f,
                ("", None, c) => c.unwrap_or_default(),
                (t, ..) => t.to_string(),
            };
            self.close_value(id, v);
        }
    }

    fn text(&mut self, t: &str) {
        if self.in_mnemonic {
            self.cols.push(t.trim().to_string());
        } else if let Some(top) = self.stack.last_mut() {
            top.1.push_str(t);
        }
    }
}

fn entity(name: &str) -> &'static str {
    match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        _ => "",
    }
}

fn read(source_name: &str, text: &str) -> Result<State, ProfileError> {
    let mut reader = Reader::from_str(text);
    let mut st = State::default();
    loop {
        match reader
            .read_event()
            .map_err(|e| bad(source_name, format!("XML: {e}")))?
        {
            Event::Start(e) => st.open(&e, false),
            Event::Empty(e) => st.open(&e, true),
            Event::Text(t) => st.text(&t),
            Event::GeneralRef(r) => st.text(entity(&r)),
            Event::End(e) => match e.name().as_ref() {
                "mnemonic" => st.in_mnemonic = false,
                "row" => {
                    st.in_row = false;
                    st.rows.push(std::mem::take(&mut st.row));
                }
                _ if st.in_row => st.end(),
                _ => {}
            },
            Event::Eof => return Ok(st),
            _ => {}
        }
    }
}

/// Total length of the union of [start, end) intervals.
pub fn union_ns(mut iv: Vec<(f64, f64)>) -> f64 {
    iv.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut total, mut cur): (f64, Option<(f64, f64)>) = (0.0, None);
    for (s, e) in iv {
        cur = match cur {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    total + cur.map_or(0.0, |(s, e)| e - s)
}

pub fn parse(source_name: &str, text: &str) -> Result<KernelSummary, ProfileError> {
    let st = read(source_name, text)?;
    let find = |f: &dyn Fn(&str) -> bool| st.cols.iter().position(|c| f(c));
    let start = find(&|c| c == "start")
        .ok_or_else(|| bad(source_name, "no 'start' column in the schema"))?;
    let dur = find(&|c| c == "duration")
        .ok_or_else(|| bad(source_name, "no 'duration' column in the schema"))?;
    let label = find(&|c| c.contains("label"))
        .or_else(|| find(&|c| c.contains("name") && !c.contains("process")));
    let (mut per, mut iv) = (BTreeMap::new(), Vec::new());
    for (i, row) in st.rows.iter().enumerate() {
        let num = |k: usize| row.get(k).and_then(|v| v.parse::<f64>().ok());
        let (Some(s), Some(d)) = (num(start), num(dur)) else {
            return Err(bad(
                source_name,
                format!("row {}: start/duration are not integer nanoseconds", i + 1),
            ));
        };
        let name = label
            .and_then(|k| row.get(k))
            .filter(|v| !v.is_empty())
            .cloned()
            .unwrap_or_else(|| "(unlabelled)".into());
        let e = per.entry(name).or_insert((0, 0.0));
        e.0 += 1;
        e.1 += d;
        iv.push((s, s + d));
    }
    if per.is_empty() {
        return Err(bad(
            source_name,
            "the metal-gpu-intervals table has no rows",
        ));
    }
    let mut s = summarize("xctrace", per);
    s.gpu_busy_ns = Some(union_ns(iv));
    s.notes.push("xctrace names encoders and command buffers, not kernels: the rows are GPU intervals by label".into());
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ref_to_a_value_nested_in_an_earlier_row_resolves() {
        let xml = r#"<trace-query-result><node><schema name="metal-gpu-intervals"><col><mnemonic>start</mnemonic></col><col><mnemonic>duration</mnemonic></col><col><mnemonic>cmdbuffer-label</mnemonic></col></schema>
<row><start-time id="1">10</start-time><duration id="2">5</duration><label id="3"><inner id="4" fmt="cb &amp; 1"/></label></row>
<row><start-time id="5">12</start-time><duration ref="2"/><label ref="4"/></row>
<row><start-time id="6">40</start-time><duration id="7">1</duration><sentinel/></row>
</node></trace-query-result>"#;
        let s = parse("x", xml).unwrap();
        let names: Vec<(&str, u64)> = s
            .kernels
            .iter()
            .map(|k| (k.name.as_str(), k.launches))
            .collect();
        assert_eq!(names, [("cb & 1", 2), ("(unlabelled)", 1)]);
        // [10,15) and [12,17) overlap: union 7, plus [40,41).
        assert_eq!(s.gpu_busy_ns, Some(8.0));
        assert_eq!(s.kernel_time_ns, 11.0);
    }

    #[test]
    fn a_schema_without_duration_is_an_error() {
        let xml = "<trace-query-result><schema><col><mnemonic>start</mnemonic></col></schema></trace-query-result>";
        assert!(parse("x", xml)
            .unwrap_err()
            .to_string()
            .contains("no 'duration' column"));
    }
}
