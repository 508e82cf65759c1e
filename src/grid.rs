//! The one table layer under every reporter (run, compare, history,
//! sweep, ops, serve, parse): a [`Grid`] (columns with an
//! alignment and a priority, rows of text, notes) rendered to the terminal,
//! to GitHub markdown or to CSV. comfy-table is built here and nowhere else.
//!
//! On a terminal the table fits the width (the `COLUMNS` variable, else the
//! terminal's): a header is shortened to its abbreviation first, then the
//! columns of lowest priority are left out, and a note says which. A cell is
//! never wrapped: a row read across a wrapped cell is a different row.
//!
//! A leaf module (comfy-table and csv only), so that any reporter may use it
//! without an import cycle; `report::grid_text` maps `--format` onto it.

use comfy_table::{presets::UTF8_FULL_CONDENSED, Cell, CellAlignment, Color, ContentArrangement};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// How a cell is coloured on a colour terminal (never in files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Unsure,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    /// A shorter header used when the table must fit a narrow terminal.
    pub short: Option<String>,
    pub align: Align,
    /// 0: always shown; larger numbers are left out first when the table is
    /// too wide.
    pub priority: u8,
}

impl Column {
    pub fn left(name: &str) -> Column {
        Column {
            name: name.to_string(),
            short: None,
            align: Align::Left,
            priority: 0,
        }
    }

    pub fn right(name: &str) -> Column {
        Column {
            align: Align::Right,
            ..Column::left(name)
        }
    }

    /// Left out before the columns of a lower priority number.
    pub fn priority(mut self, p: u8) -> Column {
        self.priority = p;
        self
    }

    pub fn short(mut self, s: &str) -> Column {
        self.short = Some(s.to_string());
        self
    }
}

/// A table: what every reporter builds, then renders in the asked format.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
    /// (row, column, tone) of coloured cells.
    tones: Vec<(usize, usize, Tone)>,
    /// Lines printed under the table (not in CSV).
    pub notes: Vec<String>,
}

/// The width of the terminal the table is printed on: `COLUMNS`, else the
/// terminal's when stdout is one, else none (a pipe gets every column).
pub fn terminal_width() -> Option<usize> {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return Some(n);
    }
    comfy_table::Table::new().width().map(usize::from)
}

/// Colour on the terminal: stdout is one and NO_COLOR is not set.
pub fn colour_enabled() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

fn text_width(s: &str) -> usize {
    s.chars().count()
}

/// A markdown table cell: pipes escaped, newlines folded.
pub fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Grid {
    pub fn new(columns: Vec<Column>) -> Grid {
        Grid {
            columns,
            ..Grid::default()
        }
    }

    /// A grid whose columns are all left-aligned, always shown.
    pub fn plain(header: &[&str]) -> Grid {
        Grid::new(header.iter().map(|h| Column::left(h)).collect())
    }

    /// Adds a row; missing cells are blank, extra ones dropped.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut r: Vec<String> = cells.into_iter().map(Into::into).collect();
        r.resize(self.columns.len(), String::new());
        self.rows.push(r);
    }

    /// Colours the cell at `col` of the last row added.
    pub fn tone_last(&mut self, col: usize, tone: Tone) {
        if let Some(row) = self.rows.len().checked_sub(1) {
            self.tones.push((row, col, tone));
        }
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The terminal table as printed now: fitted to the terminal, coloured
    /// when stdout is a colour terminal.
    pub fn to_terminal(&self) -> String {
        self.to_table(terminal_width(), colour_enabled())
    }

    fn col_width(&self, i: usize, header: &str) -> usize {
        self.rows
            .iter()
            .map(|r| text_width(&r[i]))
            .fold(text_width(header), usize::max)
    }

    /// Width of the table drawn with these (column, header) pairs: each
    /// column padded by one space a side, a border between and around.
    fn drawn_width(&self, shown: &[(usize, String)]) -> usize {
        let inner: usize = shown.iter().map(|(i, h)| self.col_width(*i, h) + 2).sum();
        inner + shown.len() + 1
    }

    /// Which columns are drawn under `width`, with which header, and the
    /// names of those left out.
    fn fit(&self, width: Option<usize>) -> (Vec<(usize, String)>, Vec<String>) {
        let mut shown: Vec<(usize, String)> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c.name.clone()))
            .collect();
        let Some(width) = width else {
            return (shown, Vec::new());
        };
        if self.drawn_width(&shown) > width {
            for (i, h) in shown.iter_mut() {
                if let Some(s) = &self.columns[*i].short {
                    *h = s.clone();
                }
            }
        }
        let mut left_out = Vec::new();
        while self.drawn_width(&shown) > width {
            let Some(pos) = (0..shown.len())
                .filter(|&p| self.columns[shown[p].0].priority > 0)
                .max_by_key(|&p| (self.columns[shown[p].0].priority, p))
            else {
                break;
            };
            let (i, _) = shown.remove(pos);
            left_out.push(self.columns[i].name.clone());
        }
        (shown, left_out)
    }

    /// The terminal table, fitted to `width` when one is given.
    pub fn to_table(&self, width: Option<usize>, colour: bool) -> String {
        let (shown, left_out) = self.fit(width);
        let mut t = comfy_table::Table::new();
        t.load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        if !colour {
            t.force_no_tty();
        }
        t.set_header(shown.iter().map(|(_, h)| Cell::new(h)));
        for (r, row) in self.rows.iter().enumerate() {
            t.add_row(
                shown
                    .iter()
                    .map(|(i, _)| self.cell(r, *i, &row[*i], colour)),
            );
        }
        let mut out = format!("{t}\n");
        if !left_out.is_empty() {
            out.push_str(&format!(
                "(left out to fit {} columns: {}; widen the terminal, set COLUMNS, or use --format markdown/csv)\n",
                width.unwrap_or_default(),
                left_out.join(", ")
            ));
        }
        for n in &self.notes {
            out.push_str(&format!("{n}\n"));
        }
        out
    }

    fn cell(&self, r: usize, i: usize, text: &str, colour: bool) -> Cell {
        let mut c = Cell::new(text);
        if self.columns[i].align == Align::Right {
            c = c.set_alignment(CellAlignment::Right);
        }
        let tone = self
            .tones
            .iter()
            .find(|(tr, tc, _)| *tr == r && *tc == i)
            .map(|t| t.2);
        match (colour, tone) {
            (true, Some(Tone::Good)) => c.fg(Color::Green),
            (true, Some(Tone::Bad)) => c.fg(Color::Red),
            (true, Some(Tone::Unsure)) => c.fg(Color::Yellow),
            _ => c,
        }
    }

    /// A GitHub-flavoured markdown table, then the notes as paragraphs.
    pub fn to_markdown(&self) -> String {
        let head: Vec<String> = self.columns.iter().map(|c| md_cell(&c.name)).collect();
        let rule: Vec<&str> = self
            .columns
            .iter()
            .map(|c| match c.align {
                Align::Left => "---",
                Align::Right => "--:",
            })
            .collect();
        let mut out = format!("| {} |\n|{}|\n", head.join(" | "), rule.join("|"));
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(|c| md_cell(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for n in &self.notes {
                out.push_str(&format!("{}  \n", md_cell(n)));
            }
        }
        out
    }

    /// CSV: the header and the rows, no notes.
    pub fn to_csv(&self) -> String {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(self.columns.iter().map(|c| c.name.as_str()));
        for row in &self.rows {
            let _ = w.write_record(row);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Grid {
        let mut g = Grid::new(vec![
            Column::left("metric"),
            Column::right("median"),
            Column::right("95% CI of the median")
                .short("95% CI")
                .priority(2),
            Column::right("p").priority(1),
        ]);
        g.row(["eval_tps", "812.4", "800.1 .. 820.9", "0.002"]);
        g.row(["wall_ms", "2,462", "2,400 .. 2,700", "0.375"]);
        g
    }

    #[test]
    fn a_table_without_a_width_shows_every_column() {
        let t = sample().to_table(None, false);
        assert!(t.contains("95% CI of the median"));
        assert!(t.contains("0.375"));
        assert!(!t.contains("left out"));
    }

    #[test]
    fn a_narrow_terminal_abbreviates_then_drops_the_lowest_priority() {
        let g = sample();
        let full = g.to_table(None, false);
        let full_width = full.lines().next().unwrap().chars().count();
        // Shortening the header alone fits (20 -> 14 wide).
        let t = g.to_table(Some(full_width - 6), false);
        assert!(t.contains("95% CI "), "{t}");
        assert!(!t.contains("of the median"), "{t}");
        assert!(t.contains("0.375"));
        // Narrower: the interval (priority 2) goes before p (priority 1).
        let t = g.to_table(Some(40), false);
        assert!(!t.contains("800.1"), "{t}");
        assert!(t.contains("0.375"), "{t}");
        assert!(t.contains("left out to fit 40 columns: 95% CI of the median"));
        for line in t.lines().take(5) {
            assert!(line.chars().count() <= 40, "{line}");
        }
    }

    #[test]
    fn cells_are_never_wrapped_even_when_nothing_can_be_dropped() {
        let mut g = Grid::plain(&["a"]);
        g.row(["a long cell that is wider than the terminal"]);
        let t = g.to_table(Some(10), false);
        assert!(t.contains("a long cell that is wider than the terminal"));
    }

    #[test]
    fn markdown_aligns_and_escapes() {
        let mut g = sample();
        g.row(["a|b", "1", "", ""]);
        g.note("B/A: the paired estimate");
        let md = g.to_markdown();
        assert!(
            md.starts_with("| metric | median | 95% CI of the median | p |\n|---|--:|--:|--:|\n")
        );
        assert!(md.contains("| a\\|b | 1 |  |  |"));
        assert!(md.ends_with("\nB/A: the paired estimate  \n"));
    }

    #[test]
    fn csv_quotes_and_omits_notes() {
        let mut g = Grid::plain(&["k", "v"]);
        g.row(["a,b", "1"]);
        g.note("not data");
        assert_eq!(g.to_csv(), "k,v\n\"a,b\",1\n");
    }

    #[test]
    fn short_rows_are_padded() {
        let mut g = Grid::plain(&["a", "b"]);
        g.row(["x"]);
        assert_eq!(g.rows[0], vec!["x".to_string(), String::new()]);
    }
}
