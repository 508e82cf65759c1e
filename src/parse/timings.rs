//! llama.cpp timing blocks of every era (see FORMATS.md section 1): the March
//! 2023 `main:` lines, `llama_print_timings:` (2023-2024), `llama_perf_*`
//! (Sep 2024 on), `common_perf_print:` (Nov 2025 on), llama-server
//! `slot print_timing:` lines and the new llama-cli `[ Prompt: … ]` footer.
//!
//! Lines are read by meaning, not by column: `%10.2f` fields overflow and
//! touch their neighbours, widths changed between eras, some locales print a
//! decimal comma. Values are kept exactly as printed; the only computed values
//! are t/s in eras that print none, and those are named in `Timings::derived`.

use std::sync::LazyLock;

use regex::Regex;

use super::text::{log_lines, parse_num, LogLine, NUM};
use super::ParseWarning;
use crate::model::{BlockKind, Num, TimingBlock, Timings};

/// Everything found in one text: the timing blocks in order, and remarks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimingsOutput {
    pub blocks: Vec<TimingBlock>,
    pub warnings: Vec<ParseWarning>,
}

/// Finds every timing block in `text` (stderr or stdout of a llama.cpp tool,
/// a llama-server log, a `--log-jsonl` log). Never panics.
pub fn parse_timings(text: &str) -> TimingsOutput {
    let mut builder = Builder::default();
    for line in log_lines(text) {
        builder.feed(&line);
    }
    builder.finish()
}

fn re(pattern: &str) -> Regex {
    Regex::new(&pattern.replace("NUM", NUM)).expect("timings regex is valid")
}

static FIELD_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:slot\s+print_timing:\s*id\s+(?P<sid>-?\d+)\s*\|\s*task\s+(?P<tid>-?\d+)\s*\||(?:INFO|WARN|WARNING|ERR|ERROR|DEBUG|VERB)\s*\[\s*(?P<func>\w+)\s*\]|(?P<printer>[A-Za-z_]\w*):)?\s*(?P<field>mem per token|load time|sample time|sampling time|samplers time|prompt eval time|generation eval time|predict time|eval time|total time|unaccounted time|graphs reused|draft acceptance)\s*=\s*(?P<rest>.*)$",
    )
});
static SLOT_HEADER_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^slot\s+print_timing:\s*id\s+(-?\d+)\s*\|\s*task\s+(-?\d+)\s*\|\s*$"));
static SPEC_HEADER_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^(draft|target):\s*$"));
static FOOTER_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\[\s*Prompt:\s*(NUM)\s*t/s\s*\|\s*Generation:\s*(NUM)\s*t/s\s*\]"));
// The 2024 server's text log ends each line with `| ... id_slot=0 id_task=3`.
static KV_SLOT_RE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:id_slot|slot_id)=(-?\d+)"));
static KV_TASK_RE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:id_task|task_id)=(-?\d+)"));

static MS_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^(NUM)\s*ms\b"));
static COUNT_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*/\s*(\d+)\s+(runs?|tokens?)\b"));
static PREDICT_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*/\s*(NUM)\s*ms per (?:token|run)\b"));
static PCT_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*/\s*(NUM)\s*%"));
static PER_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"\(\s*(NUM)\s*ms per (?:token|run)\s*(?:,\s*(NUM)\s*tokens per second\s*)?\)")
});
static INT_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d+)(?:\s|$)"));
static BYTES_RE: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d+)\s*bytes\b"));
static DRAFT_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(NUM)\s*\(\s*(\d+)\s*accepted\s*/\s*(\d+)\s*generated\s*\)"));

/// The llama.cpp function that printed a line; it decides the block kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Printer {
    Main,
    PrintTimings,
    PerfSampler,
    PerfContext,
    Common,
    Server,
}

impl Printer {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "main" => Self::Main,
            "llama_print_timings" => Self::PrintTimings,
            "llama_perf_sampler_print" => Self::PerfSampler,
            "llama_perf_context_print" => Self::PerfContext,
            "common_perf_print" => Self::Common,
            // The 2023-2024 server's own printer.
            "print_timings" => Self::Server,
            _ => return None,
        })
    }

    fn kind(self) -> BlockKind {
        match self {
            Self::Main => BlockKind::Main2023,
            Self::PrintTimings => BlockKind::LlamaPrintTimings,
            Self::PerfSampler | Self::PerfContext => BlockKind::LlamaPerf,
            Self::Common => BlockKind::CommonPerfPrint,
            Self::Server => BlockKind::ServerSlot,
        }
    }

    /// Whether `next` may continue a block that `self` has been printing:
    /// only the sampler-then-context pair of `llama_perf_*` shares a block.
    fn continues_with(self, next: Self) -> bool {
        self == next || (self == Self::PerfSampler && next == Self::PerfContext)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    MemPerToken,
    Load,
    Sampling,
    Samplers,
    PromptEval,
    Eval,
    Total,
    Unaccounted,
    GraphsReused,
    DraftAcceptance,
}

impl Field {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "mem per token" => Self::MemPerToken,
            "load time" => Self::Load,
            "sample time" | "sampling time" => Self::Sampling,
            "samplers time" => Self::Samplers,
            "prompt eval time" => Self::PromptEval,
            "eval time" | "generation eval time" | "predict time" => Self::Eval,
            "total time" => Self::Total,
            "unaccounted time" => Self::Unaccounted,
            "graphs reused" => Self::GraphsReused,
            "draft acceptance" => Self::DraftAcceptance,
            _ => return None,
        })
    }
}

/// A timing field line: who printed it (None for an unprefixed server
/// continuation line), the slot label when the line names one, the rest.
struct FieldLine {
    printer: Option<Printer>,
    label: Option<String>,
    field: Field,
    /// The field as printed (`eval time`), for warnings.
    name: String,
    rest: String,
}

/// What one cleaned line means to the block builder.
enum Line {
    Field(FieldLine),
    SpecHeader(String),
    SlotHeader(String),
    Footer(Option<Num>, Option<Num>),
    Blank,
    Other,
}

fn classify(line: &LogLine) -> Line {
    let text = line.text.as_str();
    if text.is_empty() {
        return Line::Blank;
    }
    if let Some(c) = FIELD_RE.captures(text) {
        return classify_field(&c, line).map_or(Line::Other, Line::Field);
    }
    if let Some(c) = SLOT_HEADER_RE.captures(text) {
        return Line::SlotHeader(format!("slot {} task {}", &c[1], &c[2]));
    }
    if let Some(c) = SPEC_HEADER_RE.captures(text) {
        return Line::SpecHeader(c[1].to_string());
    }
    if let Some(c) = FOOTER_RE.captures(text) {
        return Line::Footer(parse_num(&c[1]), parse_num(&c[2]));
    }
    Line::Other
}

fn classify_field(c: &regex::Captures<'_>, line: &LogLine) -> Option<FieldLine> {
    let name = c.name("field")?.as_str();
    let field = Field::from_name(name)?;
    let rest = c.name("rest").map_or("", |m| m.as_str()).to_string();
    let (printer, label) = if let (Some(s), Some(t)) = (c.name("sid"), c.name("tid")) {
        let label = format!("slot {} task {}", s.as_str(), t.as_str());
        (Some(Printer::Server), Some(label))
    } else if let Some(func) = c.name("func") {
        // 2024 server text log: `INFO [ print_timings] ... | id_slot=0 id_task=3`.
        let printer = Printer::from_name(func.as_str()).filter(|p| *p == Printer::Server)?;
        let label = kv_slot_label(&rest).or_else(|| line.slot.clone());
        (Some(printer), label)
    } else if let Some(name) = c.name("printer") {
        // An unknown printer is someone else's line that happens to match.
        let printer = Printer::from_name(name.as_str())?;
        (Some(printer), line.slot.clone())
    } else if line.slot.is_some() {
        // A JSON server log record that names its slot and task.
        (Some(Printer::Server), line.slot.clone())
    } else {
        (None, None)
    };
    Some(FieldLine {
        printer,
        label,
        field,
        name: name.to_string(),
        rest,
    })
}

fn kv_slot_label(rest: &str) -> Option<String> {
    let slot = KV_SLOT_RE.captures(rest)?;
    let task = KV_TASK_RE.captures(rest)?;
    Some(format!("slot {} task {}", &slot[1], &task[1]))
}

/// The values read from one field line, before they are put in `Timings`.
#[derive(Debug, Default)]
struct Reading {
    value: Option<Num>,
    count: Option<u64>,
    unit: Option<String>,
    per_token: Option<Num>,
    tps: Option<Num>,
    pct: Option<Num>,
    generated: Option<u64>,
}

fn read_count(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .map_err(|_| format!("count '{s}' is not a whole number that fits 64 bits"))
}

/// Reads the text after `=`. `Err` when the field's main value cannot be
/// read; `Ok` with remarks when only a later part (count, per-token) is cut.
fn read_field(field: Field, rest: &str) -> Result<(Reading, Vec<String>), String> {
    let mut r = Reading::default();
    match field {
        Field::GraphsReused => {
            let c = INT_RE.captures(rest).ok_or("expected a whole number")?;
            r.count = Some(read_count(&c[1])?);
        }
        Field::MemPerToken => {
            let c = BYTES_RE.captures(rest).ok_or("expected 'N bytes'")?;
            r.count = Some(read_count(&c[1])?);
        }
        Field::DraftAcceptance => {
            let c = DRAFT_RE
                .captures(rest)
                .ok_or("expected 'R (A accepted / G generated)'")?;
            r.value = parse_num(&c[1]);
            r.count = Some(read_count(&c[2])?);
            r.generated = Some(read_count(&c[3])?);
        }
        _ => return read_time(field, rest),
    }
    Ok((r, Vec::new()))
}

/// `X ms [/ N runs|tokens | / Y ms per token | / P %] [(Y ms per token[, Z tokens per second])]`.
fn read_time(field: Field, rest: &str) -> Result<(Reading, Vec<String>), String> {
    let c = MS_RE.captures(rest).ok_or("expected 'X ms'")?;
    let mut r = Reading {
        value: parse_num(&c[1]),
        ..Reading::default()
    };
    let tail = &rest[c.get(0).map_or(0, |m| m.end())..];
    let mut remarks = Vec::new();
    if let Some(c) = COUNT_RE.captures(tail) {
        r.count = Some(read_count(&c[1])?);
        r.unit = Some(c[2].to_string());
    } else if let Some(c) = PREDICT_RE.captures(tail) {
        r.per_token = parse_num(&c[1]);
    } else if let Some(c) = PCT_RE.captures(tail) {
        r.pct = parse_num(&c[1]);
    } else if tail.trim_start().starts_with('/') {
        remarks.push("the part after '/' could not be read".to_string());
    }
    if let Some(c) = PER_RE.captures(tail) {
        r.per_token = parse_num(&c[1]);
        r.tps = c.get(2).and_then(|m| parse_num(m.as_str()));
    } else if field != Field::Unaccounted && tail.contains('(') {
        remarks.push("the '(… ms per token …)' part could not be read".to_string());
    }
    Ok((r, remarks))
}

fn apply(field: Field, r: Reading, t: &mut Timings, eval_unit: &mut Option<String>) {
    match field {
        Field::MemPerToken => t.mem_per_token_bytes = r.count,
        Field::Load => t.load_ms = r.value,
        Field::Sampling => (t.sampling_ms, t.sampling_runs) = (r.value, r.count),
        Field::Samplers => (t.samplers_ms, t.samplers_runs) = (r.value, r.count),
        Field::PromptEval => {
            (t.prompt_eval_ms, t.prompt_eval_tokens) = (r.value, r.count);
            (t.prompt_eval_ms_per_token, t.prompt_eval_tps) = (r.per_token, r.tps);
        }
        Field::Eval => {
            (t.eval_ms, t.eval_tokens) = (r.value, r.count);
            (t.eval_ms_per_token, t.eval_tps) = (r.per_token, r.tps);
            *eval_unit = r.unit;
        }
        Field::Total => (t.total_ms, t.total_tokens) = (r.value, r.count),
        Field::Unaccounted => (t.unaccounted_ms, t.unaccounted_pct) = (r.value, r.pct),
        Field::GraphsReused => t.graphs_reused = r.count,
        Field::DraftAcceptance => {
            t.draft_acceptance = r.value;
            (t.draft_accepted, t.draft_generated) = (r.count, r.generated);
        }
    }
}

/// Eras before mid-2023 print `ms per token` (or `per run`) but no t/s; the
/// rate is then 1000 / ms-per-token, marked as derived. Never from `inf`/0.
fn derive_rates(t: &mut Timings) {
    fn rate(per_token: Option<Num>) -> Option<Num> {
        let v = per_token?.finite().filter(|v| *v > 0.0)?;
        Some(Num(1000.0 / v))
    }
    if t.eval_tps.is_none() {
        if let Some(v) = rate(t.eval_ms_per_token) {
            t.eval_tps = Some(v);
            t.derived.push("eval_tps".to_string());
        }
    }
    if t.prompt_eval_tps.is_none() {
        if let Some(v) = rate(t.prompt_eval_ms_per_token) {
            t.prompt_eval_tps = Some(v);
            t.derived.push("prompt_eval_tps".to_string());
        }
    }
}

/// A block being filled.
struct Open {
    block: TimingBlock,
    printer: Printer,
    seen: Vec<Field>,
}

#[derive(Default)]
struct Builder {
    out: TimingsOutput,
    open: Option<Open>,
    /// `draft` / `target` from a header line, for the next block.
    pending_label: Option<String>,
    /// A bare `slot print_timing:` header (its label and line), or an
    /// unprefixed `prompt eval time` line (no label), for the unprefixed
    /// lines that follow it.
    continuation: Option<(Option<String>, usize)>,
}

impl Builder {
    fn feed(&mut self, line: &LogLine) {
        match classify(line) {
            Line::Field(f) => self.field(f, line.line),
            Line::SpecHeader(name) => {
                self.close();
                self.continuation = None;
                self.pending_label = Some(name);
            }
            Line::SlotHeader(label) => {
                self.close();
                self.continuation = Some((Some(label), line.line));
            }
            Line::Footer(prompt, generation) => {
                self.close();
                self.continuation = None;
                self.push_footer(prompt, generation, line.line);
            }
            Line::Blank => {}
            Line::Other => {
                self.continuation = None;
                self.pending_label = None;
            }
        }
    }

    fn field(&mut self, f: FieldLine, line: usize) {
        let (printer, label, first_line) = match (f.printer, &self.continuation) {
            (Some(p), _) => (p, f.label, line),
            (None, Some((label, header))) => (Printer::Server, label.clone(), *header),
            // llama-server's block pasted without its `slot print_timing: id N | task M |`
            // prefix (as quoted in issues): it starts with `prompt eval time`.
            (None, None) if f.field == Field::PromptEval => {
                self.close();
                self.continuation = Some((None, line));
                (Printer::Server, None, line)
            }
            // A stray unprefixed field line belongs to no block.
            (None, None) => return,
        };
        let reading = match read_field(f.field, &f.rest) {
            Ok((reading, remarks)) => {
                for remark in remarks {
                    self.warn(line, &f.name, &f.rest, &remark);
                }
                reading
            }
            Err(why) => return self.warn(line, &f.name, &f.rest, &why),
        };
        if self.starts_new_block(printer, label.as_deref(), f.field) {
            self.close();
            self.open_block(printer, label, first_line);
        }
        if let Some(open) = self.open.as_mut() {
            open.printer = printer;
            open.seen.push(f.field);
            apply(
                f.field,
                reading,
                &mut open.block.timings,
                &mut open.block.eval_unit,
            );
        }
    }

    fn starts_new_block(&self, printer: Printer, label: Option<&str>, field: Field) -> bool {
        let Some(open) = &self.open else { return true };
        open.block.kind != printer.kind()
            || (label.is_some() && open.block.label.as_deref() != label)
            || open.seen.contains(&field)
            || !open.printer.continues_with(printer)
    }

    fn open_block(&mut self, printer: Printer, label: Option<String>, line: usize) {
        let label = label.or_else(|| self.pending_label.take());
        self.pending_label = None;
        self.open = Some(Open {
            block: TimingBlock {
                kind: printer.kind(),
                label,
                line,
                eval_unit: None,
                timings: Timings::default(),
            },
            printer,
            seen: Vec::new(),
        });
    }

    fn close(&mut self) {
        if let Some(mut open) = self.open.take() {
            derive_rates(&mut open.block.timings);
            self.out.blocks.push(open.block);
        }
    }

    fn push_footer(&mut self, prompt: Option<Num>, generation: Option<Num>, line: usize) {
        let timings = Timings {
            prompt_eval_tps: prompt,
            eval_tps: generation,
            ..Timings::default()
        };
        self.out.blocks.push(TimingBlock {
            kind: BlockKind::CliFooter,
            label: None,
            line,
            eval_unit: None,
            timings,
        });
    }

    fn warn(&mut self, line: usize, field: &str, rest: &str, why: &str) {
        let shown: String = rest.chars().take(60).collect();
        self.out.warnings.push(ParseWarning {
            line,
            message: format!("timing line '{field} = {shown}' not fully read: {why}"),
        });
    }

    fn finish(mut self) -> TimingsOutput {
        self.close();
        self.out
    }
}

#[cfg(test)]
#[path = "timings_tests.rs"]
mod tests;
