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

#[derive(Debug, Clone, PartialEq)]
pub struct BenchOutput {
    pub format: BenchFormat,
    pub tests: Vec<BenchTest>,
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
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix('[') {
            let rest = rest.trim_start();
            if (rest.is_empty() || rest.starts_with('{')) && names_bench_field(&text[offset..]) {
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
        .from_reader(text[start..].as_bytes());
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
    let numeric = match ty.and_then(Value::as_str) {
        Some("INTEGER") => s.parse::<i64>().ok().map(Value::from),
        Some("REAL") => s
            .parse::<f64>()
            .ok()
            .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
        Some(_) => None,
        None => match v {
            SqlValue::Bare(_) => s
                .parse::<f64>()
                .ok()
                .and_then(|f| serde_json::Number::from_f64(f).map(Value::Number)),
            SqlValue::Text(_) => None,
        },
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
