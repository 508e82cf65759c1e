//! llama-bench's SQL (`-o sql`): `CREATE TABLE` for the column types, then
//! one `INSERT INTO llama_bench (cols) VALUES (vals);` per test, read by a
//! small cursor (quoted text, bare tokens).

use serde_json::{Map, Value};

use super::{line_of, token_end, warning, Failure, Found, Record};

/// Byte offset of the first `INSERT INTO llama_bench` (older builds: `test`).
pub(super) fn sql_insert_line(text: &str) -> Option<usize> {
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

pub(super) fn read_sql(text: &str) -> Result<Found, Failure> {
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

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use crate::model::{BenchFormat, Num};
    use serde_json::Value;

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
}
