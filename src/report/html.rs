//! The HTML report: one self-contained page (inline CSS and SVG, no
//! scripts, nothing fetched). The tables are the markdown reporters' own
//! output turned into HTML, so the page and `--format markdown` can never
//! disagree with `run`/`compare --format markdown`.

use crate::markup::escape;

/// A block of the report: a heading and the markdown a reporter wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: String,
    pub markdown: String,
}

/// A plot of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Short name, used for the SVG file beside a markdown report.
    pub name: String,
    pub caption: String,
    pub svg: String,
}

/// Everything a report shows, whatever its format.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    pub title: String,
    pub sections: Vec<Section>,
    pub figures: Vec<Figure>,
    /// Plots that could not be drawn, and why.
    pub notes: Vec<String>,
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:1em 0;font-size:.9em}\
th,td{border:1px solid #ccc;padding:.25em .6em}th{background:#f3f3f3}\
td.r{text-align:right;font-variant-numeric:tabular-nums}\
.warning{background:#fff6dd;border-left:4px solid #e0a800;padding:.4em .8em}\
.headline{font-size:1.05em}figure{margin:1em 0}svg{max-width:100%;height:auto}\
figcaption{color:#555;font-size:.9em}code{background:#f3f3f3;padding:0 .2em}";

/// The whole page.
pub fn render(doc: &Document) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(&doc.title),
        escape(&doc.title)
    );
    for s in &doc.sections {
        out.push_str(&format!("<h2>{}</h2>\n", escape(&s.title)));
        out.push_str(&markdown_to_html(&s.markdown));
    }
    if !doc.figures.is_empty() || !doc.notes.is_empty() {
        out.push_str("<h2>Plots</h2>\n");
    }
    for f in &doc.figures {
        out.push_str(&format!(
            "<figure id=\"fig-{}\">\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
            escape(&f.name),
            strip_xml_declaration(&f.svg),
            escape(&f.caption)
        ));
    }
    for n in &doc.notes {
        out.push_str(&format!("<p class=\"warning\">{}</p>\n", escape(n)));
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn strip_xml_declaration(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// The subset of markdown the reporters write: pipe tables, `- ` lists,
/// `> ` warnings, `**bold**` and `` `code` `` in paragraphs, and the
/// `<details><summary>..</summary>` ... `</details>` block of the compare
/// markdown (its own lines, nothing else passes through unescaped).
pub fn markdown_to_html(md: &str) -> String {
    let mut out = String::new();
    let mut table: Vec<&str> = Vec::new();
    let mut list: Vec<&str> = Vec::new();
    for line in md.lines().map(str::trim_end) {
        if line.starts_with('|') {
            table.push(line);
            continue;
        }
        if let Some(item) = line.strip_prefix("- ") {
            list.push(item);
            continue;
        }
        flush(&mut out, &mut table, &mut list);
        out.push_str(&block_html(line));
    }
    flush(&mut out, &mut table, &mut list);
    out
}

/// Writes the table or list gathered so far.
fn flush(out: &mut String, table: &mut Vec<&str>, list: &mut Vec<&str>) {
    if !table.is_empty() {
        out.push_str(&table_html(table));
        table.clear();
    }
    if !list.is_empty() {
        let items: String = list
            .iter()
            .map(|i| format!("<li>{}</li>\n", inline(i)))
            .collect();
        out.push_str(&format!("<ul>\n{items}</ul>\n"));
        list.clear();
    }
}

/// One line that is neither a table row nor a list item.
fn block_html(line: &str) -> String {
    if let Some(summary) = line
        .strip_prefix("<details><summary>")
        .and_then(|r| r.strip_suffix("</summary>"))
    {
        return format!("<details><summary>{}</summary>\n", inline(summary));
    }
    if line == "</details>" {
        return "</details>\n".to_string();
    }
    if let Some(rest) = line.strip_prefix("> ") {
        return format!("<p class=\"warning\">{}</p>\n", inline(rest));
    }
    if line.is_empty() {
        return String::new();
    }
    let class = if line.starts_with("**") {
        " class=\"headline\""
    } else {
        ""
    };
    format!("<p{class}>{}</p>\n", inline(line))
}

/// Cells of a pipe-table row; `\|` is a literal bar.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut out = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cell.push('|');
            }
            '|' => out.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    out.push(cell);
    out.iter().map(|c| c.trim().to_string()).collect()
}

fn is_rule(cells: &[String]) -> bool {
    cells
        .iter()
        .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':')))
}

fn table_html(rows: &[&str]) -> String {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| cells(r)).collect();
    let (head, align, body) = match rows.as_slice() {
        [h, rule, rest @ ..] if is_rule(rule) => (Some(h), rule.clone(), rest),
        all => (None, Vec::new(), all),
    };
    let right = |i: usize| {
        align
            .get(i)
            .is_some_and(|a| a.ends_with(':') && !a.starts_with(':'))
    };
    let mut out = String::from("<table>\n");
    if let Some(h) = head.filter(|h| h.iter().any(|c| !c.is_empty())) {
        let ths: String = h
            .iter()
            .map(|c| format!("<th>{}</th>", inline(c)))
            .collect();
        out.push_str(&format!("<thead><tr>{ths}</tr></thead>\n"));
    }
    out.push_str("<tbody>\n");
    for row in body {
        let tds: String = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let class = if right(i) { " class=\"r\"" } else { "" };
                format!("<td{class}>{}</td>", inline(c))
            })
            .collect();
        out.push_str(&format!("<tr>{tds}</tr>\n"));
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// Escapes the text, then turns `**x**` and `` `x` `` into tags.
fn inline(s: &str) -> String {
    let escaped = escape(s);
    let bold = toggle(&escaped, "**", "strong");
    toggle(&bold, "`", "code")
}

/// Replaces paired `marker`s by `<tag>`/`</tag>`; an unpaired one stays.
fn toggle(s: &str, marker: &str, tag: &str) -> String {
    let parts: Vec<&str> = s.split(marker).collect();
    if parts.len() < 3 {
        return s.to_string();
    }
    let mut out = String::new();
    let pairs = (parts.len() - 1) / 2 * 2;
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            if i <= pairs {
                let open = i % 2 == 1;
                out.push_str(&format!("<{}{tag}>", if open { "" } else { "/" }));
            } else {
                out.push_str(marker);
            }
        }
        out.push_str(p);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_the_details_block_of_the_compare_markdown() {
        let md = "- **A**: fa-off\n- **B**: fa-on\n\n<details><summary>all metrics</summary>\n\n| a |\n|---|\n| 1 |\n\n</details>\n<script>x</script>\n";
        let html = markdown_to_html(md);
        assert!(html.starts_with("<ul>\n<li><strong>A</strong>: fa-off</li>\n<li><strong>B</strong>: fa-on</li>\n</ul>\n"), "{html}");
        assert!(
            html.contains("<details><summary>all metrics</summary>\n<table>"),
            "{html}"
        );
        assert!(html.contains("</table>\n</details>\n"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn pipe_tables_become_html_tables_with_right_aligned_numbers() {
        let md =
            "| | |\n|---|---|\n| A | x \\| y |\n\n| metric | n |\n|---|--:|\n| eval_tps | 5 |\n";
        let html = markdown_to_html(md);
        assert_eq!(html.matches("<table>").count(), 2);
        assert!(html.contains("<td>x | y</td>"), "{html}");
        assert!(html.contains("<th>metric</th><th>n</th>"), "{html}");
        assert!(html.contains("<td class=\"r\">5</td>"), "{html}");
        // The empty header of the key/value table is left out.
        assert_eq!(html.matches("<thead>").count(), 1);
    }

    #[test]
    fn warnings_headlines_and_inline_markup() {
        let html = markdown_to_html("**verdict: <b>**\n\n> warning: drift in `eval_tps`\n`--x`: **REGRESSION** and a lone ** mark");
        assert!(
            html.contains("<p class=\"headline\"><strong>verdict: &lt;b&gt;</strong></p>"),
            "{html}"
        );
        assert!(
            html.contains("<p class=\"warning\">warning: drift in <code>eval_tps</code></p>"),
            "{html}"
        );
        assert!(
            html.contains("<code>--x</code>: <strong>REGRESSION</strong> and a lone ** mark"),
            "{html}"
        );
    }

    #[test]
    fn page_is_self_contained() {
        let doc = Document {
            title: "t & u".into(),
            sections: vec![Section {
                title: "s".into(),
                markdown: "| a |\n|---|\n| 1 |".into(),
            }],
            figures: vec![Figure {
                name: "f".into(),
                caption: "c".into(),
                svg: "<?xml version=\"1.0\"?>\n<svg></svg>".into(),
            }],
            notes: vec!["no timeline".into()],
        };
        let html = render(&doc);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<title>t &amp; u</title>"));
        assert!(html.contains("<figure id=\"fig-f\">\n<svg></svg>"));
        assert!(!html.contains("<?xml"));
        assert!(!html.contains("src=") && !html.contains("href=") && !html.contains("<script"));
        assert!(html.ends_with("</html>\n"));
    }
}
