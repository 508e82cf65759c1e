//! llama-bench output in its five formats: markdown, json, jsonl, csv and sql
//! (FORMATS.md section 2), read into one [`BenchTest`] per test.
//!
//! Every format is reduced to a list of named fields per test and mapped by
//! one function, so a test reads the same whichever format it came in.
//!
//! Policy for broken input, the same in every format:
//! - an input that ends in the middle of a record (llama-bench killed or a
//!   file cut short) keeps the complete records before it and adds a
//!   [`ParseWarning`] naming the line; with no complete record it is
//!   [`ParseError::Malformed`];
//! - a broken record with more input after it (a markdown row with the wrong
//!   number of cells, a `t/s` cell that is not a number, an object without
//!   `avg_ts`) is [`ParseError::Malformed`]: dropping it would silently change
//!   what gets compared;
//! - a header with no test under it is [`ParseError::Malformed`];
//! - lines that belong to no format (stderr mixed into stdout) are skipped.
//!
//! `inf` and `nan` are kept as such. llama-bench prints them bare in JSON
//! (`"avg_ts": inf`), which is not JSON, so those tokens are quoted before the
//! JSON is read. Markdown prints only mean ± stddev: its tests have no
//! samples, and its size and params are rounded, so their printed strings are
//! kept in `extra` (`model_size_printed`, `model_n_params_printed`).

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::{ParseError, ParseWarning};
use crate::model::{BenchFormat, BenchTest, Num};

/// What one llama-bench output holds.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOutput {
    /// The format it was read as.
    pub format: BenchFormat,
    /// The tests in the order printed; never empty.
    pub tests: Vec<BenchTest>,
    /// Records left out because the input was cut short.
    pub warnings: Vec<ParseWarning>,
}

/// `pp512`, `tg128`, `pp512+tg128`, ` @ d4096`; 2023 builds wrote `pp 512`.
static TEST_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:pp ?(\d+)(?:\+tg ?(\d+))?|tg ?(\d+))(?: ?@ ?d(\d+))?$")
        .expect("test-name regex is valid")
});

/// The markdown footer `build: <commit> (<number>)`.
static FOOTER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^build: (\S+) \((\d+)\)$").expect("footer regex is valid"));

/// `235.16 MiB`, `268.10 M`: a number and a unit.
static AMOUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([0-9]+(?:\.[0-9]+)?) ?([A-Za-z]+)$").expect("amount regex is valid")
});

/// A record's fields in the order printed, with the 1-based line it starts on.
struct Record {
    line: usize,
    fields: Map<String, Value>,
}

/// What a format reader found before mapping: records plus remarks.
#[derive(Default)]
struct Found {
    records: Vec<Record>,
    warnings: Vec<ParseWarning>,
}

/// Which llama-bench format `text` looks like, if any.
pub fn detect_bench_format(text: &str) -> Option<BenchFormat> {
    if sql_insert_line(text).is_some() || text.contains("CREATE TABLE IF NOT EXISTS llama_bench") {
        return Some(BenchFormat::Sql);
    }
    if md_header_line(text).is_some() {
        return Some(BenchFormat::Md);
    }
    if json_array_start(text).is_some() {
        return Some(BenchFormat::Json);
    }
    if text.lines().any(is_jsonl_record) {
        return Some(BenchFormat::Jsonl);
    }
    if csv_header_line(text).is_some() {
        return Some(BenchFormat::Csv);
    }
    None
}

/// Parses llama-bench output of any format. `source_name` names the input in errors.
pub fn parse_bench(source_name: &str, text: &str) -> Result<BenchOutput, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Empty {
            source_name: source_name.to_string(),
        });
    }
    let malformed = |line: usize, message: String| ParseError::Malformed {
        source_name: source_name.to_string(),
        line,
        message,
    };
    let format = detect_bench_format(text).ok_or_else(|| ParseError::NothingRecognised {
        source_name: source_name.to_string(),
    })?;
    let found = match format {
        BenchFormat::Md => read_md(text),
        BenchFormat::Json => read_json(text),
        BenchFormat::Jsonl => read_jsonl(text),
        BenchFormat::Csv => read_csv(text),
        BenchFormat::Sql => read_sql(text),
    }
    .map_err(|(line, message)| malformed(line, message))?;
    if found.records.is_empty() {
        let line = found.warnings.first().map_or(1, |w| w.line);
        let why = found.warnings.first().map_or("", |w| w.message.as_str());
        return Err(malformed(
            line,
            format!("llama-bench output with no complete test. {why}"),
        ));
    }
    let tests = found
        .records
        .into_iter()
        .map(|r| test_from_fields(r.fields).map_err(|m| malformed(r.line, m)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BenchOutput {
        format,
        tests,
        warnings: found.warnings,
    })
}

/// A read failure: 1-based line and message.
type Failure = (usize, String);

fn warning(line: usize, message: impl Into<String>) -> ParseWarning {
    ParseWarning {
        line,
        message: message.into(),
    }
}

/// 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

// ---------------------------------------------------------------- markdown

/// The table cells of a `| a | b |` line; `None` if it is not a table line.
/// A line cut short (no closing `|`) gives its cells with `closed == false`.
fn md_cells(line: &str) -> Option<(Vec<&str>, bool)> {
    let inner = line.trim().strip_prefix('|')?;
    let (inner, closed) = match inner.strip_suffix('|') {
        Some(s) => (s, true),
        None => (inner, false),
    };
    Some((inner.split('|').map(str::trim).collect(), closed))
}

fn is_md_header(cells: &[&str]) -> bool {
    cells.first() == Some(&"model") && cells.contains(&"test") && cells.contains(&"t/s")
}

fn md_header_line(text: &str) -> Option<usize> {
    text.lines()
        .position(|l| md_cells(l).is_some_and(|(c, _)| is_md_header(&c)))
}

fn is_md_separator(cells: &[&str]) -> bool {
    cells
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
}

/// Reads every table (header, separator, rows) and applies each
/// `build:` footer to the rows above it that have none yet.
fn read_md(text: &str) -> Result<Found, Failure> {
    let mut found = Found::default();
    let mut header: Vec<String> = Vec::new();
    let mut unbuilt = 0; // index of the first record without a footer yet
    let last = text.lines().count();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if let Some(caps) = FOOTER.captures(raw.trim()) {
            apply_footer(&mut found.records[unbuilt..], &caps[1], &caps[2]);
            unbuilt = found.records.len();
            continue;
        }
        let Some((cells, closed)) = md_cells(raw) else {
            continue;
        };
        if is_md_header(&cells) {
            header = cells.iter().map(|c| c.to_string()).collect();
        } else if !header.is_empty() && !is_md_separator(&cells) {
            let truncated = !closed && line == last && !text.ends_with('\n');
            if truncated || (cells.len() != header.len() && line == last) {
                found
                    .warnings
                    .push(warning(line, "markdown row cut short; ignored"));
                continue;
            }
            let fields = md_row(&header, &cells).map_err(|m| (line, m))?;
            found.records.push(Record { line, fields });
        }
    }
    if found.records.is_empty() && found.warnings.is_empty() {
        let line = md_header_line(text).map_or(1, |i| i + 1);
        return Err((line, "markdown table header with no test rows".into()));
    }
    Ok(found)
}

fn apply_footer(records: &mut [Record], commit: &str, number: &str) {
    for r in records {
        r.fields
            .insert("build_commit".into(), Value::String(commit.into()));
        r.fields
            .insert("build_number".into(), Value::String(number.into()));
    }
}

/// One markdown row as llama-bench JSON field names, so that the common
/// mapping applies. Derived values keep their printed text in `*_printed`.
fn md_row(header: &[String], cells: &[&str]) -> Result<Map<String, Value>, String> {
    if cells.len() != header.len() {
        return Err(format!(
            "markdown row has {} cells, header has {}",
            cells.len(),
            header.len()
        ));
    }
    let mut f = Map::new();
    for (name, &cell) in header.iter().zip(cells) {
        // Markdown column names that differ from the JSON field names.
        let key = match name.as_str() {
            "model" => "model_type",
            "backend" => "backends",
            "ngl" => "n_gpu_layers",
            "threads" => "n_threads",
            other => other,
        };
        match key {
            "size" => md_amount(&mut f, "model_size", cell, size_unit)?,
            "params" => md_amount(&mut f, "model_n_params", cell, params_unit)?,
            "test" => md_test(&mut f, cell)?,
            "t/s" => md_tps(&mut f, cell)?,
            _ => {
                f.insert(key.to_string(), Value::String(cell.to_string()));
            }
        }
    }
    Ok(f)
}

fn size_unit(unit: &str) -> Option<f64> {
    let exp = ["B", "KiB", "MiB", "GiB", "TiB"]
        .iter()
        .position(|u| *u == unit)?;
    Some(1024f64.powi(exp as i32))
}

fn params_unit(unit: &str) -> Option<f64> {
    match unit {
        "K" => Some(1e3),
        "M" => Some(1e6),
        "B" | "G" => Some(1e9),
        "T" => Some(1e12),
        _ => None,
    }
}

/// `235.16 MiB` -> bytes (rounded, since the figure printed was rounded).
fn md_amount(
    f: &mut Map<String, Value>,
    key: &str,
    cell: &str,
    unit: fn(&str) -> Option<f64>,
) -> Result<(), String> {
    let value = AMOUNT
        .captures(cell)
        .and_then(|c| Some(c[1].parse::<f64>().ok()? * unit(&c[2])?))
        .ok_or_else(|| format!("'{cell}' is not a {key} like '235.16 MiB' or '268.10 M'"))?;
    f.insert(key.into(), Value::from(value.round() as u64));
    f.insert(format!("{key}_printed"), Value::String(cell.into()));
    Ok(())
}

fn md_test(f: &mut Map<String, Value>, cell: &str) -> Result<(), String> {
    let caps = TEST_NAME
        .captures(cell)
        .ok_or_else(|| format!("'{cell}' is not a llama-bench test name (pp512, tg128, ...)"))?;
    let num = |i: usize| -> Result<u64, String> {
        caps.get(i).map_or(Ok(0), |m| {
            m.as_str()
                .parse()
                .map_err(|_| format!("'{cell}': count too large"))
        })
    };
    f.insert("n_prompt".into(), Value::from(num(1)?));
    f.insert("n_gen".into(), Value::from(num(2)?.max(num(3)?)));
    f.insert("n_depth".into(), Value::from(num(4)?));
    f.insert("test_printed".into(), Value::String(cell.into()));
    Ok(())
}

/// `371.00 ± 1.09` -> avg and stddev, `inf`/`nan` included.
fn md_tps(f: &mut Map<String, Value>, cell: &str) -> Result<(), String> {
    let bad = || format!("t/s '{cell}' is not 'mean ± stddev'");
    let (avg, sd) = cell.split_once('±').ok_or_else(bad)?;
    let avg = parse_num(avg).ok_or_else(bad)?;
    let sd = parse_num(sd).ok_or_else(bad)?;
    f.insert("avg_ts".into(), num_value(avg));
    f.insert("stddev_ts".into(), num_value(sd));
    Ok(())
}

// -------------------------------------------------------------- json(l)

/// Byte offset of the `[` that opens a llama-bench JSON array: a line that is
/// `[` alone or starts `[{`/`[ {`, with an `avg_ts` field after it.
fn json_array_start(text: &str) -> Option<usize> {
    // Found once, so that a log with many `[` lines stays linear.
    let last_field = ["\"avg_ts\"", "\"build_commit\""]
        .iter()
        .filter_map(|f| text.rfind(f))
        .max()?;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix('[') {
            let rest = rest.trim_start();
            if (rest.is_empty() || rest.starts_with('{')) && offset < last_field {
                return Some(offset + (line.len() - t.len()));
            }
        }
        offset += line.len();
    }
    None
}

fn is_jsonl_record(line: &str) -> bool {
    line.trim_start().starts_with('{') && names_bench_field(line)
}

/// Whether JSON text names a field only llama-bench writes. `build_commit`
/// comes first in every object, so a file cut before `avg_ts` still counts.
fn names_bench_field(text: &str) -> bool {
    text.contains("\"avg_ts\"") || text.contains("\"build_commit\"")
}

/// Quotes the bare `inf`, `-inf`, `nan`, `-nan`, `nan(ind)` tokens
/// llama-bench prints for non-finite values, so that serde_json can read the
/// rest. Newlines are kept, so line numbers still hold.
fn quote_non_finite(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.char_indices().peekable();
    let mut in_string = false;
    while let Some((i, c)) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => out.extend(chars.next().map(|(_, c)| c)),
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if c == '-' || c.is_ascii_alphanumeric() {
            let end = token_end(text, i, "+-._()");
            let token = &text[i..end];
            let bare = token.trim_start_matches(['-', '+']).to_ascii_lowercase();
            if bare.starts_with("inf") || bare.starts_with("nan") {
                out.push('"');
                out.push_str(token);
                out.push('"');
            } else {
                out.push_str(token);
            }
            while chars.peek().is_some_and(|&(j, _)| j < end) {
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// End of a bare token (number or word) starting at `start`.
/// `also` lists the punctuation a token may hold besides letters and digits.
fn token_end(text: &str, start: usize, also: &str) -> usize {
    text[start..]
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || also.contains(c)))
        .map_or(text.len(), |(j, _)| start + j)
}

/// Reads the array one object at a time, so that a file cut short keeps the
/// objects written before the cut.
fn read_json(text: &str) -> Result<Found, Failure> {
    let mut found = Found::default();
    let Some(start) = json_array_start(text) else {
        return Ok(found);
    };
    let body = quote_non_finite(&text[start + 1..]);
    let base = line_of(text, start) - 1;
    let mut pos = 0;
    loop {
        pos += body[pos..].len() - body[pos..].trim_start().len();
        let line = base + line_of(&body, pos);
        match body[pos..].chars().next() {
            None => {
                found
                    .warnings
                    .push(warning(line, "JSON array not closed (output cut short?)"));
                return Ok(found);
            }
            Some(']') => return Ok(found),
            Some(',') => pos += 1,
            Some(_) => {
                let mut stream =
                    serde_json::Deserializer::from_str(&body[pos..]).into_iter::<Value>();
                match stream.next() {
                    Some(Ok(value)) => found.records.push(json_record(value, line)?),
                    Some(Err(e)) if e.is_eof() => {
                        found
                            .warnings
                            .push(warning(line, "JSON object cut short; ignored"));
                        return Ok(found);
                    }
                    Some(Err(e)) => {
                        return Err((base + line_of(&body, pos) + e.line() - 1, e.to_string()))
                    }
                    None => return Ok(found),
                }
                pos += stream.byte_offset();
            }
        }
    }
}

fn json_record(value: Value, line: usize) -> Result<Record, Failure> {
    match value {
        Value::Object(fields) => Ok(Record { line, fields }),
        other => Err((line, format!("expected a JSON object, found '{other}'"))),
    }
}

fn read_jsonl(text: &str) -> Result<Found, Failure> {
    let mut found = Found::default();
    let last = text.lines().count();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        if !raw.trim_start().starts_with('{') {
            continue;
        }
        match serde_json::from_str::<Value>(&quote_non_finite(raw)) {
            Ok(value) => found.records.push(json_record(value, line)?),
            Err(e) if e.is_eof() && line == last => {
                found
                    .warnings
                    .push(warning(line, "JSON line cut short; ignored"));
            }
            Err(e) => return Err((line, e.to_string())),
        }
    }
    Ok(found)
}

// --------------------------------------------------------------------- csv

/// Line index of the csv header: names `build_commit` and `avg_ts`, commas.
fn csv_header_line(text: &str) -> Option<usize> {
    text.lines().position(|l| {
        let names: Vec<&str> = l.split(',').map(|c| c.trim().trim_matches('"')).collect();
        names.len() > 1 && names.contains(&"build_commit") && names.contains(&"avg_ts")
    })
}

fn read_csv(text: &str) -> Result<Found, Failure> {
    let mut found = Found::default();
    let Some(first) = csv_header_line(text) else {
        return Ok(found);
    };
    let start: usize = text.split_inclusive('\n').take(first).map(str::len).sum();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&text.as_bytes()[start..]);
    let mut header: Vec<String> = Vec::new();
    let mut rows = reader.records().peekable();
    while let Some(row) = rows.next() {
        let row = row.map_err(|e| (first + 1, e.to_string()))?;
        let line = first + row.position().map_or(1, |p| p.line() as usize);
        if header.is_empty() {
            header = row.iter().map(str::to_string).collect();
        } else if row.len() != header.len() || (rows.peek().is_none() && !text.ends_with('\n')) {
            // llama-bench ends every row with a newline: without one the last
            // row may hold a value cut short even when its field count is right.
            if rows.peek().is_none() && row.len() <= header.len() {
                found
                    .warnings
                    .push(warning(line, "csv row cut short; ignored"));
                break;
            }
            return Err((
                line,
                format!(
                    "csv row has {} fields, header has {}",
                    row.len(),
                    header.len()
                ),
            ));
        } else {
            let fields = header
                .iter()
                .zip(row.iter())
                .map(|(k, v)| (k.clone(), Value::String(v.into())));
            found.records.push(Record {
                line,
                fields: fields.collect(),
            });
        }
    }
    Ok(found)
}

// --------------------------------------------------------------------- sql

/// Byte offset of the first `INSERT INTO llama_bench` (older builds: `test`).
fn sql_insert_line(text: &str) -> Option<usize> {
    ["INSERT INTO llama_bench ", "INSERT INTO test ("]
        .iter()
        .filter_map(|p| text.find(p))
        .filter(|&i| text[i..].contains("avg_ts"))
        .min()
}

/// Column types from `CREATE TABLE`, so `'512'` in an INTEGER column reads
/// as the number llama-bench meant.
fn sql_column_types(text: &str) -> Map<String, Value> {
    let mut types = Map::new();
    let Some(start) = text.find("CREATE TABLE") else {
        return types;
    };
    let body = text[start..].split(");").next().unwrap_or("");
    for line in body.lines().skip(1) {
        let mut words = line.trim().trim_end_matches(',').split_whitespace();
        if let (Some(name), Some(ty), None) = (words.next(), words.next(), words.next()) {
            types.insert(name.into(), Value::String(ty.to_ascii_uppercase()));
        }
    }
    types
}

fn read_sql(text: &str) -> Result<Found, Failure> {
    let mut found = Found::default();
    let types = sql_column_types(text);
    let mut pos = 0;
    while let Some(rel) = text[pos..].find("INSERT INTO ") {
        let at = pos + rel;
        let line = line_of(text, at);
        let mut p = SqlCursor {
            text,
            pos: at + "INSERT INTO ".len(),
        };
        match p.insert() {
            Ok((cols, vals)) if cols.len() == vals.len() => {
                let fields = cols.into_iter().zip(vals).map(|(c, v)| {
                    let v = sql_typed(types.get(&c), v);
                    (c, v)
                });
                found.records.push(Record {
                    line,
                    fields: fields.collect(),
                });
            }
            Ok((cols, vals)) => {
                return Err((
                    line,
                    format!(
                        "INSERT has {} columns and {} values",
                        cols.len(),
                        vals.len()
                    ),
                ))
            }
            Err(SqlError::Eof) => {
                found
                    .warnings
                    .push(warning(line, "INSERT statement cut short; ignored"));
                break;
            }
            Err(SqlError::Syntax(m)) => return Err((line_of(text, p.pos), m)),
        }
        pos = p.pos;
    }
    Ok(found)
}

/// A SQL value as printed: quoted text or a bare token.
enum SqlValue {
    Text(String),
    Bare(String),
}

fn sql_typed(ty: Option<&Value>, v: SqlValue) -> Value {
    let (SqlValue::Text(s) | SqlValue::Bare(s)) = &v;
    let as_int = || s.parse::<i64>().ok().map(Value::from);
    let as_real = || {
        s.parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
    };
    let numeric = match (ty.and_then(Value::as_str), &v) {
        (Some("INTEGER"), _) => as_int(),
        (Some("REAL"), _) => as_real(),
        // Without a CREATE TABLE only bare tokens are taken as numbers.
        (None, SqlValue::Bare(_)) => as_int().or_else(as_real),
        _ => None,
    };
    numeric.unwrap_or_else(|| Value::String(s.clone()))
}

enum SqlError {
    Eof,
    Syntax(String),
}

/// A cursor over one `INSERT INTO t (cols) VALUES (vals);` statement.
struct SqlCursor<'a> {
    text: &'a str,
    pos: usize,
}

impl SqlCursor<'_> {
    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn skip_ws(&mut self) {
        self.pos += self.rest().len() - self.rest().trim_start().len();
    }

    fn expect(&mut self, word: &str) -> Result<(), SqlError> {
        self.skip_ws();
        if self.rest().starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else if word.starts_with(self.rest()) {
            Err(SqlError::Eof)
        } else {
            Err(SqlError::Syntax(format!(
                "expected '{word}' in INSERT statement"
            )))
        }
    }

    fn bare(&mut self) -> Result<String, SqlError> {
        self.skip_ws();
        let end = token_end(self.text, self.pos, "+-._");
        if end == self.text.len() {
            return Err(SqlError::Eof);
        }
        if end == self.pos {
            return Err(SqlError::Syntax(
                "expected a name or a value in INSERT statement".into(),
            ));
        }
        let token = self.text[self.pos..end].to_string();
        self.pos = end;
        Ok(token)
    }

    /// `'it''s'` -> `it's`.
    fn quoted(&mut self) -> Result<String, SqlError> {
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            let Some(i) = self.rest().find('\'') else {
                return Err(SqlError::Eof);
            };
            out.push_str(&self.rest()[..i]);
            self.pos += i + 1;
            if self.rest().starts_with('\'') {
                out.push('\'');
                self.pos += 1;
            } else {
                return Ok(out);
            }
        }
    }

    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, SqlError>,
    ) -> Result<Vec<T>, SqlError> {
        self.expect("(")?;
        let mut items = vec![item(self)?];
        loop {
            self.skip_ws();
            match self.rest().chars().next() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(items);
                }
                None => return Err(SqlError::Eof),
                Some(c) => {
                    return Err(SqlError::Syntax(format!(
                        "unexpected '{c}' in INSERT statement"
                    )))
                }
            }
            items.push(item(self)?);
        }
    }

    fn value(&mut self) -> Result<SqlValue, SqlError> {
        self.skip_ws();
        if self.rest().starts_with('\'') {
            self.quoted().map(SqlValue::Text)
        } else {
            self.bare().map(SqlValue::Bare)
        }
    }

    fn insert(&mut self) -> Result<(Vec<String>, Vec<SqlValue>), SqlError> {
        self.bare()?; // table name
        let cols = self.list(Self::bare)?;
        self.expect("VALUES")?;
        let vals = self.list(Self::value)?;
        self.expect(";")?;
        Ok((cols, vals))
    }
}

// ------------------------------------------------------------- mapping

/// `inf`, `-inf`, `nan`, `-nan`, `nan(ind)` or a decimal number.
fn parse_num(s: &str) -> Option<Num> {
    let s = s.trim();
    let lower = s.to_ascii_lowercase();
    let bare = lower.trim_start_matches(['-', '+']);
    if bare.starts_with("nan") {
        return Some(Num(f64::NAN));
    }
    if bare == "inf" || bare == "infinity" {
        return Some(Num(if lower.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        }));
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite()).map(Num)
}

/// A number as a JSON value; non-finite ones as the strings `Num` serialises to.
fn num_value(n: Num) -> Value {
    serde_json::to_value(n).unwrap_or(Value::Null)
}

fn as_num(v: &Value) -> Option<Num> {
    match v {
        Value::Number(n) => n.as_f64().map(Num),
        Value::String(s) => parse_num(s),
        _ => None,
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A samples list: a JSON array, or a space-separated string (csv).
fn as_list<T>(v: &Value, item: fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    match v {
        Value::Array(a) => a.iter().map(item).collect(),
        Value::String(s) => s
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|t| !t.is_empty())
            .map(|t| item(&Value::String(t.into())))
            .collect(),
        _ => None,
    }
}

/// Takes `key` out of `f` and converts it; a value of the wrong kind is an error.
fn take<T>(
    f: &mut Map<String, Value>,
    key: &str,
    conv: impl Fn(&Value) -> Option<T>,
) -> Result<Option<T>, String> {
    match f.remove(key) {
        None => Ok(None),
        Some(v) => conv(&v)
            .map(Some)
            .ok_or_else(|| format!("field '{key}' has an unexpected value '{v}'")),
    }
}

fn required<T>(
    f: &mut Map<String, Value>,
    key: &str,
    conv: impl Fn(&Value) -> Option<T>,
) -> Result<T, String> {
    take(f, key, conv)?.ok_or_else(|| format!("field '{key}' is missing"))
}

/// The name llama-bench's markdown gives a test.
fn test_name(n_prompt: u64, n_gen: u64, n_depth: u64) -> String {
    let base = match (n_prompt, n_gen) {
        (p, 0) if p > 0 => format!("pp{p}"),
        (0, g) if g > 0 => format!("tg{g}"),
        (p, g) => format!("pp{p}+tg{g}"),
    };
    if n_depth > 0 {
        format!("{base} @ d{n_depth}")
    } else {
        base
    }
}

/// Maps llama-bench field names to a [`BenchTest`]; the rest goes to `extra`.
fn test_from_fields(mut f: Map<String, Value>) -> Result<BenchTest, String> {
    let n_prompt = required(&mut f, "n_prompt", as_u64)?;
    let n_gen = required(&mut f, "n_gen", as_u64)?;
    // Older builds had no depth; their tests ran at depth 0.
    let n_depth = take(&mut f, "n_depth", as_u64)?.unwrap_or(0);
    let backends = match take(&mut f, "backends", as_string)? {
        Some(b) => Some(b),
        None => take(&mut f, "backend", as_string)?,
    };
    let test = BenchTest {
        test: test_name(n_prompt, n_gen, n_depth),
        n_prompt,
        n_gen,
        n_depth,
        avg_tps: required(&mut f, "avg_ts", as_num)?,
        stddev_tps: required(&mut f, "stddev_ts", as_num)?,
        samples_tps: take(&mut f, "samples_ts", |v| {
            as_list(v, |x| as_num(x).map(|n| n.0))
        })?
        .unwrap_or_default(),
        samples_ns: take(&mut f, "samples_ns", |v| as_list(v, as_u64))?.unwrap_or_default(),
        avg_ns: take(&mut f, "avg_ns", as_u64)?,
        model_type: take(&mut f, "model_type", as_string)?,
        model_size_bytes: take(&mut f, "model_size", as_u64)?,
        model_n_params: take(&mut f, "model_n_params", as_u64)?,
        backends,
        n_gpu_layers: take(&mut f, "n_gpu_layers", as_i64)?,
        n_threads: take(&mut f, "n_threads", as_i64)?,
        build_commit: take(&mut f, "build_commit", as_string)?,
        build_number: take(&mut f, "build_number", as_u64)?,
        extra: Map::new(),
    };
    // The markdown's own spelling of the test only matters when it differs.
    if f.get("test_printed").and_then(Value::as_str) == Some(test.test.as_str()) {
        f.remove("test_printed");
    }
    Ok(BenchTest { extra: f, ..test })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CPU_MD: &str = include_str!("../../fixtures/llama-bench/2026_current_cpu.md");
    const CPU_JSON: &str = include_str!("../../fixtures/llama-bench/2026_current_cpu.json");
    const CPU_JSONL: &str = include_str!("../../fixtures/llama-bench/2026_current_cpu.jsonl");
    const CPU_CSV: &str = include_str!("../../fixtures/llama-bench/2026_current_cpu.csv");
    const GEMMA_R3: &str = include_str!("../../fixtures/llama-bench/2026_cpu_gemma3_r3.json");
    const CUDA_MD: &str = include_str!("../../fixtures/llama-bench/2026_cuda_h200.md");
    const CUDA_MD_STDERR: &str =
        include_str!("../../fixtures/llama-bench/2026_cuda_h200_with_stderr.md");
    const CUDA_JSON: &str = include_str!("../../fixtures/llama-bench/2026_cuda_h200.json");
    const CUDA_SQL: &str = include_str!("../../fixtures/llama-bench/2026_cuda_h200.sql");
    const MD_2023: &str = include_str!("../../fixtures/llama-bench/2023_pr2626_cuda.md");
    const SYN_MD: &str =
        include_str!("../../fixtures/llama-bench/synthetic_cuda_depth_pptg_ngl.md");
    const SYN_JSONL: &str =
        include_str!("../../fixtures/llama-bench/synthetic_depth_pptg_inf.jsonl");
    const OLD_JSON: &str = include_str!("../../fixtures/llama-bench/synthetic_old_fields.json");
    const TRUNC_JSON: &str = include_str!("../../fixtures/llama-bench/truncated_cpu.json");
    const TRUNC_FIRST: &str =
        include_str!("../../fixtures/llama-bench/truncated_first_object.json");
    const TRUNC_MD: &str = include_str!("../../fixtures/llama-bench/truncated_cpu.md");

    const ALL: [&str; 16] = [
        CPU_MD,
        CPU_JSON,
        CPU_JSONL,
        CPU_CSV,
        GEMMA_R3,
        CUDA_MD,
        CUDA_MD_STDERR,
        CUDA_JSON,
        CUDA_SQL,
        MD_2023,
        SYN_MD,
        SYN_JSONL,
        OLD_JSON,
        TRUNC_JSON,
        TRUNC_FIRST,
        TRUNC_MD,
    ];

    fn parse(text: &str) -> BenchOutput {
        match parse_bench("fixture", text) {
            Ok(out) => out,
            Err(e) => panic!("fixture did not parse: {e}"),
        }
    }

    fn extra<'a>(t: &'a BenchTest, key: &str) -> &'a str {
        t.extra
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or("<missing>")
    }

    /// The fields every format carries, compared exactly.
    fn check(t: &BenchTest, test: &str, p: u64, g: u64, d: u64, avg: f64, sd: f64) {
        assert_eq!(t.test, test);
        assert_eq!((t.n_prompt, t.n_gen, t.n_depth), (p, g, d), "{test}");
        assert_eq!(t.avg_tps, Num(avg), "{test}");
        assert_eq!(t.stddev_tps, Num(sd), "{test}");
    }

    fn check_build(out: &BenchOutput, commit: &str, number: u64, backend: &str) {
        for t in &out.tests {
            assert_eq!(t.build_commit.as_deref(), Some(commit));
            assert_eq!(t.build_number, Some(number));
            assert_eq!(t.backends.as_deref(), Some(backend));
        }
    }

    #[test]
    fn detects_every_format() {
        assert_eq!(detect_bench_format(CPU_MD), Some(BenchFormat::Md));
        assert_eq!(detect_bench_format(CUDA_MD_STDERR), Some(BenchFormat::Md));
        assert_eq!(detect_bench_format(MD_2023), Some(BenchFormat::Md));
        assert_eq!(detect_bench_format(CPU_JSON), Some(BenchFormat::Json));
        assert_eq!(detect_bench_format(TRUNC_FIRST), Some(BenchFormat::Json));
        assert_eq!(detect_bench_format(CPU_JSONL), Some(BenchFormat::Jsonl));
        assert_eq!(detect_bench_format(CPU_CSV), Some(BenchFormat::Csv));
        assert_eq!(detect_bench_format(CUDA_SQL), Some(BenchFormat::Sql));
        let noisy = format!("main: warming up\n{CPU_JSON}");
        assert_eq!(detect_bench_format(&noisy), Some(BenchFormat::Json));
        assert_eq!(detect_bench_format("hello\n[1, 2]\n"), None);
        assert_eq!(detect_bench_format("| a | b |\n"), None);
    }

    #[test]
    fn markdown_current_cpu() {
        let out = parse(CPU_MD);
        assert_eq!(out.format, BenchFormat::Md);
        assert!(out.warnings.is_empty());
        assert_eq!(out.tests.len(), 2);
        let (pp, tg) = (&out.tests[0], &out.tests[1]);
        check(pp, "pp32", 32, 0, 0, 371.00, 1.09);
        check(tg, "tg8", 0, 8, 0, 46.90, 1.29);
        check_build(&out, "0c1e570", 1, "CPU");
        assert_eq!(pp.model_type.as_deref(), Some("gemma3 270M Q4_K - Medium"));
        assert_eq!(
            pp.model_size_bytes,
            Some((235.16f64 * 1048576.0).round() as u64)
        );
        assert_eq!(pp.model_n_params, Some(268_100_000));
        assert_eq!(extra(pp, "model_size_printed"), "235.16 MiB");
        assert_eq!(extra(pp, "model_n_params_printed"), "268.10 M");
        assert_eq!(pp.n_threads, Some(2));
        assert_eq!(pp.n_gpu_layers, None);
        assert!(pp.samples_tps.is_empty() && pp.samples_ns.is_empty() && pp.avg_ns.is_none());
    }

    #[test]
    fn markdown_cuda_with_leading_stderr() {
        let plain = parse(CUDA_MD);
        let noisy = parse(CUDA_MD_STDERR);
        assert_eq!(plain.tests, noisy.tests);
        check(&noisy.tests[0], "pp512", 512, 0, 0, 32718.98, 11901.37);
        check(&noisy.tests[1], "tg128", 0, 128, 0, 887.36, 14.60);
        check_build(&noisy, "unknown", 0, "CUDA");
        assert_eq!(noisy.tests[0].n_gpu_layers, Some(99));
        assert_eq!(noisy.tests[0].n_threads, None);
        assert_eq!(extra(&noisy.tests[0], "model_size_printed"), "903.71 MiB");
        assert_eq!(noisy.tests[0].model_n_params, Some(1_500_000_000));
    }

    #[test]
    fn stderr_between_rows_is_skipped() {
        let log = "llama_model_load: loaded meta data with 36 key-value pairs\n";
        let md = CPU_MD.replacen("\n| gemma3", &format!("\n{log}| gemma3"), 2);
        assert_eq!(md.matches(log).count(), 2);
        assert_eq!(parse(&md).tests, parse(CPU_MD).tests);
        let jsonl = CPU_JSONL.replacen("\n{", &format!("\n{log}{{"), 1);
        assert!(jsonl.contains(log));
        assert_eq!(parse(&jsonl).tests, parse(CPU_JSONL).tests);
    }

    #[test]
    fn markdown_2023_layout() {
        let out = parse(MD_2023);
        assert_eq!(out.tests.len(), 2);
        check(&out.tests[0], "pp512", 512, 0, 0, 2176.63, 18.27);
        check(&out.tests[1], "tg128", 0, 128, 0, 131.09, 0.34);
        check_build(&out, "8e6716a", 1007, "CUDA");
        let t = &out.tests[0];
        assert_eq!(t.n_gpu_layers, Some(99));
        assert_eq!(t.model_type.as_deref(), Some("LLaMA 7B mostly Q4_0"));
        assert_eq!((t.model_size_bytes, t.model_n_params), (None, None));
        assert_eq!(extra(t, "test_printed"), "pp 512");
    }

    #[test]
    fn markdown_depth_pp_tg_ngl_and_non_finite() {
        let out = parse(SYN_MD);
        assert_eq!(out.tests.len(), 4);
        check(&out.tests[0], "pp512 @ d512", 512, 0, 512, 12345.67, 89.01);
        check(&out.tests[1], "tg128 @ d512", 0, 128, 512, 201.50, 0.75);
        check(&out.tests[2], "pp512+tg128", 512, 128, 0, 880.25, 3.10);
        let t = &out.tests[3];
        assert_eq!(t.avg_tps, Num(f64::INFINITY));
        assert!(t.stddev_tps.0.is_nan());
        check_build(&out, "0c1e570", 7001, "CUDA");
        let t = &out.tests[0];
        assert_eq!(t.n_gpu_layers, Some(99));
        assert_eq!(
            t.model_size_bytes,
            Some((4.58f64 * 1073741824.0).round() as u64)
        );
        assert_eq!(t.model_n_params, Some(8_030_000_000));
        assert_eq!(extra(t, "n_ubatch"), "256");
        assert_eq!(extra(t, "fa"), "1");
    }

    #[test]
    fn json_current_cpu() {
        let out = parse(CPU_JSON);
        assert_eq!(out.format, BenchFormat::Json);
        assert!(out.warnings.is_empty());
        let (pp, tg) = (&out.tests[0], &out.tests[1]);
        check(pp, "pp32", 32, 0, 0, 248.647764, 0.849410);
        check(tg, "tg8", 0, 8, 0, 45.672632, 0.629976);
        check_build(&out, "0c1e570", 1, "CPU");
        assert_eq!(pp.samples_tps, vec![248.047, 249.248]);
        assert_eq!(pp.samples_ns, vec![129007736, 128385986]);
        assert_eq!(pp.avg_ns, Some(128696861));
        assert_eq!(tg.samples_tps, vec![46.1181, 45.2272]);
        assert_eq!(tg.samples_ns, vec![173467712, 176884816]);
        assert_eq!(tg.avg_ns, Some(175176264));
        assert_eq!(pp.model_size_bytes, Some(246587904));
        assert_eq!(pp.model_n_params, Some(268098176));
        assert_eq!((pp.n_gpu_layers, pp.n_threads), (Some(-1), Some(2)));
        assert_eq!(pp.extra.get("stddev_ns"), Some(&Value::from(439643)));
        assert_eq!(pp.extra.get("repack"), Some(&Value::Bool(true)));
        assert_eq!(extra(pp, "test_time"), "2026-11-29T18:48:23Z");
        assert!(!pp.extra.contains_key("avg_ts") && !pp.extra.contains_key("samples_ts"));
    }

    #[test]
    fn json_three_repetitions_and_cuda() {
        let out = parse(GEMMA_R3);
        check(&out.tests[0], "pp64", 64, 0, 0, 495.895656, 44.511026);
        assert_eq!(out.tests[0].samples_tps, vec![524.718, 518.338, 444.631]);
        assert_eq!(
            out.tests[0].samples_ns,
            vec![121970311, 123471506, 143939614]
        );
        check(&out.tests[1], "tg32", 0, 32, 0, 49.630833, 2.983806);
        assert_eq!(out.tests[1].samples_tps, vec![49.903, 46.5203, 52.4692]);
        let out = parse(CUDA_JSON);
        check(&out.tests[0], "pp512", 512, 0, 0, 39005.332145, 8449.996561);
        assert_eq!(out.tests[0].samples_tps, vec![29254.4, 43576.6, 44185.0]);
        check(&out.tests[1], "tg128", 0, 128, 0, 902.007616, 4.960143);
        assert_eq!(
            out.tests[1].samples_ns,
            vec![142674528, 141936056, 141115022]
        );
        check_build(&out, "unknown", 0, "CUDA");
        assert_eq!(out.tests[1].n_gpu_layers, Some(99));
    }

    #[test]
    fn json_older_fields() {
        let out = parse(OLD_JSON);
        let t = &out.tests[0];
        check(t, "pp512", 512, 0, 0, 2176.632441, 18.275532);
        check_build(&out, "8e6716a", 1007, "CUDA");
        assert_eq!(t.samples_tps, vec![2155.56, 2187.06, 2187.53]);
        assert_eq!(t.extra.get("use_mmap"), Some(&Value::Bool(true)));
        assert_eq!(t.extra.get("f16_kv"), Some(&Value::Bool(true)));
        assert!(!t.extra.contains_key("backend"));
    }

    #[test]
    fn jsonl_current_cpu() {
        let out = parse(CPU_JSONL);
        assert_eq!(out.format, BenchFormat::Jsonl);
        let (pp, tg) = (&out.tests[0], &out.tests[1]);
        check(pp, "pp32", 32, 0, 0, 302.804064, 0.225572);
        check(tg, "tg8", 0, 8, 0, 39.444750, 0.108972);
        check_build(&out, "0c1e570", 1, "CPU");
        assert_eq!(pp.samples_tps, vec![302.964, 302.645]);
        assert_eq!(pp.samples_ns, vec![105623261, 105734595]);
        assert_eq!(tg.samples_tps, vec![39.3677, 39.5218]);
        assert_eq!(tg.samples_ns, vec![203212304, 202419907]);
        assert_eq!((tg.avg_ns, tg.n_threads), (Some(202816105), Some(2)));
    }

    #[test]
    fn jsonl_depth_pp_tg_and_bare_non_finite() {
        let out = parse(SYN_JSONL);
        check(&out.tests[0], "pp512 @ d512", 512, 0, 512, 12345.67, 89.01);
        check(&out.tests[1], "pp512+tg128", 512, 128, 0, 880.25, 3.10);
        assert_eq!(out.tests[1].samples_tps, vec![883.35, 877.15]);
        let t = &out.tests[2];
        assert_eq!(t.test, "tg128");
        assert_eq!(t.avg_tps, Num(f64::INFINITY));
        assert!(t.stddev_tps.0.is_nan());
        assert_eq!(t.samples_tps, vec![f64::INFINITY, f64::INFINITY]);
        check_build(&out, "0c1e570", 7001, "CUDA");
    }

    #[test]
    fn csv_current_cpu() {
        let out = parse(CPU_CSV);
        assert_eq!(out.format, BenchFormat::Csv);
        let (pp, tg) = (&out.tests[0], &out.tests[1]);
        check(pp, "pp32", 32, 0, 0, 354.163860, 3.887234);
        check(tg, "tg8", 0, 8, 0, 46.815360, 0.348864);
        check_build(&out, "0c1e570", 1, "CPU");
        // llama-bench's csv has no per-repetition samples.
        assert!(pp.samples_tps.is_empty() && pp.samples_ns.is_empty());
        assert_eq!((pp.avg_ns, tg.avg_ns), (Some(90359100), Some(170888829)));
        assert_eq!(extra(pp, "stddev_ns"), "991763");
        assert_eq!(extra(pp, "cpu_info"), "Intel(R) Xeon(R) Processor");
    }

    #[test]
    fn csv_samples_column_as_space_separated_list() {
        let text = "build_commit,n_prompt,n_gen,avg_ts,stddev_ts,samples_ns,samples_ts\n\
                    \"abc\",\"0\",\"8\",\"40.5\",\"0.5\",\"200 210\",\"40 41\"\n";
        let t = &parse(text).tests[0];
        assert_eq!(t.samples_ns, vec![200, 210]);
        assert_eq!(t.samples_tps, vec![40.0, 41.0]);
    }

    #[test]
    fn sql_cuda() {
        let out = parse(CUDA_SQL);
        assert_eq!(out.format, BenchFormat::Sql);
        assert_eq!(out.tests.len(), 4);
        check(&out.tests[0], "pp64", 64, 0, 0, 11549.228857, 7628.839921);
        check(&out.tests[1], "tg16", 0, 16, 0, 833.838901, 93.116453);
        check(&out.tests[2], "pp64", 64, 0, 0, 564.727013, 51.737084);
        check(&out.tests[3], "tg16", 0, 16, 0, 54.962372, 0.788800);
        check_build(&out, "unknown", 0, "CUDA");
        let ngl: Vec<_> = out.tests.iter().map(|t| t.n_gpu_layers).collect();
        assert_eq!(ngl, vec![Some(99), Some(99), Some(0), Some(0)]);
        assert_eq!(out.tests[0].avg_ns, Some(7087788));
        // INTEGER columns read as numbers, as the CREATE TABLE says.
        assert_eq!(
            out.tests[0].extra.get("stddev_ns"),
            Some(&Value::from(4681838))
        );
        assert_eq!(extra(&out.tests[0], "gpu_info"), "NVIDIA H200");
        assert!(out.tests[0].samples_tps.is_empty());
    }

    #[test]
    fn sql_quotes_and_bare_values() {
        let text = "INSERT INTO llama_bench (model_type, n_prompt, n_gen, avg_ts, stddev_ts) \
                    VALUES ('it''s 1B', 512, '0', 'inf', -nan);\n";
        let t = &parse(text).tests[0];
        assert_eq!(t.model_type.as_deref(), Some("it's 1B"));
        assert_eq!((t.test.as_str(), t.avg_tps), ("pp512", Num(f64::INFINITY)));
        assert!(t.stddev_tps.0.is_nan());
    }

    /// Each format was a separate llama-bench run, so t/s differs between
    /// files; everything that describes the tests must agree.
    #[test]
    fn formats_of_the_same_build_agree() {
        let md = parse(CPU_MD).tests;
        for other in [CPU_JSON, CPU_JSONL, CPU_CSV] {
            let tests = parse(other).tests;
            assert_eq!(tests.len(), md.len());
            for (a, b) in md.iter().zip(&tests) {
                assert_eq!(
                    (&a.test, a.n_prompt, a.n_gen, a.n_depth),
                    (&b.test, b.n_prompt, b.n_gen, b.n_depth)
                );
                assert_eq!(
                    (&a.model_type, &a.backends, a.n_threads),
                    (&b.model_type, &b.backends, b.n_threads)
                );
                assert_eq!(
                    (&a.build_commit, a.build_number),
                    (&b.build_commit, b.build_number)
                );
                let printed_mib = b
                    .model_size_bytes
                    .map(|s| format!("{:.2} MiB", s as f64 / 1048576.0));
                assert_eq!(printed_mib.as_deref(), Some(extra(a, "model_size_printed")));
                let printed_m = b.model_n_params.map(|p| format!("{:.2} M", p as f64 / 1e6));
                assert_eq!(
                    printed_m.as_deref(),
                    Some(extra(a, "model_n_params_printed"))
                );
            }
        }
    }

    #[test]
    fn json_average_matches_its_samples() {
        for text in [CPU_JSON, CPU_JSONL, GEMMA_R3, CUDA_JSON] {
            for t in parse(text).tests {
                let mean = t.samples_tps.iter().sum::<f64>() / t.samples_tps.len() as f64;
                assert!(
                    (mean - t.avg_tps.0).abs() < 1e-2 * t.avg_tps.0.max(1.0),
                    "{}",
                    t.test
                );
            }
        }
    }

    #[test]
    fn truncated_inputs_keep_complete_tests_or_fail_typed() {
        let out = parse(TRUNC_JSON);
        assert_eq!(out.tests.len(), 1);
        check(&out.tests[0], "pp32", 32, 0, 0, 248.647764, 0.849410);
        assert_eq!(out.warnings.len(), 1);
        assert_eq!(out.warnings[0].line, 48);
        let out = parse(TRUNC_MD);
        assert_eq!(out.tests.len(), 1);
        assert_eq!(out.warnings[0].line, 4);
        // Cut short before the footer: the build is unknown, not invented.
        assert_eq!(out.tests[0].build_commit, None);
        // Killed between two objects: the array is never closed.
        let unclosed = CPU_JSON.trim_end().trim_end_matches(']');
        let out = parse(unclosed);
        assert_eq!((out.tests.len(), out.warnings.len()), (2, 1));
        assert!(out.warnings[0].message.contains("not closed"));
        match parse_bench("cut", TRUNC_FIRST) {
            Err(ParseError::Malformed {
                line: 2, message, ..
            }) => {
                assert!(message.contains("cut short"), "{message}")
            }
            other => panic!("expected Malformed at line 2, got {other:?}"),
        }
        let cut_jsonl = &CPU_JSONL[..CPU_JSONL.len() - 40];
        let out = parse(cut_jsonl);
        assert_eq!((out.tests.len(), out.warnings[0].line), (1, 2));
        let cut_csv = &CPU_CSV[..CPU_CSV.len() - 3];
        let out = parse(cut_csv);
        assert_eq!((out.tests.len(), out.warnings[0].line), (1, 3));
        let cut_sql = &CUDA_SQL[..CUDA_SQL.len() - 30];
        let out = parse(cut_sql);
        assert_eq!((out.tests.len(), out.warnings[0].line), (3, 49));
    }

    fn malformed_line(text: &str) -> (usize, String) {
        match parse_bench("bad", text) {
            Err(ParseError::Malformed {
                line,
                message,
                source_name,
            }) => {
                assert_eq!(source_name, "bad");
                (line, message)
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }

    #[test]
    fn broken_rows_are_malformed_with_their_line() {
        let wrong_cells = CPU_MD.replacen("|       2 |            pp32", "|            pp32", 1);
        let (line, msg) = malformed_line(&wrong_cells);
        assert_eq!(line, 3);
        assert!(msg.contains("6 cells, header has 7"), "{msg}");
        let (line, msg) = malformed_line(&CPU_MD.replacen("371.00 ± 1.09", "fast ± 1.09", 1));
        assert_eq!(line, 3);
        assert!(msg.contains("'fast ± 1.09'"), "{msg}");
        let (line, _) = malformed_line(&CPU_MD.replacen("pp32", "xx32", 1));
        assert_eq!(line, 3);
        let (line, msg) = malformed_line(&CPU_JSON.replacen("\"avg_ts\": 248.647764,", "", 1));
        assert_eq!(line, 2);
        assert!(msg.contains("'avg_ts' is missing"), "{msg}");
        let (line, _) = malformed_line(&CPU_JSON.replacen("\"n_gen\": 8,", "\"n_gen\": 8,,", 1));
        assert_eq!(line, 84);
        let (line, _) = malformed_line(&CPU_JSONL.replacen("\"n_gen\": 0,", "\"n_gen\": 0,,", 1));
        assert_eq!(line, 1);
        let (line, msg) = malformed_line(&CPU_CSV.replacen("\"354.163860\",", "", 1));
        assert_eq!(line, 2);
        assert!(msg.contains("fields"), "{msg}");
        let header_only = CPU_MD.lines().take(2).collect::<Vec<_>>().join("\n");
        assert_eq!(malformed_line(&header_only).0, 1);
    }

    #[test]
    fn empty_and_garbage_inputs() {
        for text in ["", " \n\t\n"] {
            assert!(matches!(
                parse_bench("e", text),
                Err(ParseError::Empty { .. })
            ));
        }
        for text in [
            "hello world\n",
            "| x | y |\n|---|---|\n",
            "[1,2,3]",
            "{\"a\": 1}\n",
        ] {
            assert!(
                matches!(
                    parse_bench("g", text),
                    Err(ParseError::NothingRecognised { .. })
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn test_names_follow_llama_bench() {
        assert_eq!(test_name(512, 0, 0), "pp512");
        assert_eq!(test_name(0, 128, 0), "tg128");
        assert_eq!(test_name(512, 128, 0), "pp512+tg128");
        assert_eq!(test_name(512, 0, 4096), "pp512 @ d4096");
    }

    #[test]
    fn quoting_non_finite_leaves_strings_and_numbers_alone() {
        let text = r#"{"a": inf, "b": "inf \" nan", "c": -1.5e+3, "d": -nan(ind), "e": true}"#;
        let quoted = quote_non_finite(text);
        assert_eq!(
            quoted,
            r#"{"a": "inf", "b": "inf \" nan", "c": -1.5e+3, "d": "-nan(ind)", "e": true}"#
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
            let _ = detect_bench_format(&text);
            let _ = parse_bench("p", &text);
        }

        #[test]
        fn never_panics_on_cut_or_mutated_fixtures(
            which in 0..ALL.len(),
            cut in 0usize..5000,
            at in 0usize..5000,
            insert in prop::sample::select(vec!["", "|", "\n", "\"", "'", ",", "±", "inf", "{", "]", ";", "é"]),
        ) {
            let text = ALL[which];
            let cut = floor_char_boundary(text, cut);
            let mut mutated = text[..cut].to_string();
            let at = floor_char_boundary(&mutated, at);
            mutated.insert_str(at, insert);
            let _ = parse_bench("m", &mutated);
            let _ = parse_bench("m", &text[floor_char_boundary(text, at)..]);
        }
    }

    fn floor_char_boundary(s: &str, mut i: usize) -> usize {
        i = i.min(s.len());
        while !s.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}
