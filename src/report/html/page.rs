//! The building blocks of a report page: escaping, tables, figures with
//! inlined SVG, and the page shell with its stylesheet. Everything here
//! produces plain HTML text; nothing refers to anything outside the page.

use crate::report::charts::ChartFile;
use plotters::style::RGBColor;
use std::fmt::Write;

/// Escapes text for HTML content and (double- or single-quoted)
/// attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A relative link to a file under a directory named `dir` (a variant's
/// name), percent-encoded so any name makes a valid link.
pub(super) fn rel_href(dir: &str, file: &str) -> String {
    let mut out = String::new();
    for b in dir.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out.push('/');
    out.push_str(file);
    out
}

/// A small colour square, the same colour as the thing's series on the
/// charts.
pub(super) fn swatch(c: RGBColor) -> String {
    format!(
        "<span class=\"sw\" style=\"background:#{:02x}{:02x}{:02x}\"></span>",
        c.0, c.1, c.2
    )
}

/// A table column: its header and whether it holds numbers (right
/// aligned) or text.
pub(super) struct Col {
    head: String,
    num: bool,
}

impl Col {
    /// A text column, left aligned.
    pub(super) fn l(head: &str) -> Col {
        Col {
            head: head.to_string(),
            num: false,
        }
    }
    /// A number column, right aligned.
    pub(super) fn r(head: &str) -> Col {
        Col {
            head: head.to_string(),
            num: true,
        }
    }
}

/// One table cell.
pub(super) struct Cell {
    html: String,
    num: bool,
    class: Option<&'static str>,
    rowspan: usize,
}

impl Cell {
    /// Text, escaped, left aligned.
    pub(super) fn text(s: &str) -> Cell {
        Cell {
            html: esc(s),
            num: false,
            class: None,
            rowspan: 1,
        }
    }
    /// A number (already formatted), escaped, right aligned.
    pub(super) fn num(s: &str) -> Cell {
        Cell {
            num: true,
            ..Cell::text(s)
        }
    }
    /// Markup the caller built (and escaped) itself.
    pub(super) fn html(html: String) -> Cell {
        Cell {
            html,
            num: false,
            class: None,
            rowspan: 1,
        }
    }
    /// Adds a CSS class (`bad`, `warn`, `good`, `muted`).
    pub(super) fn class(mut self, class: Option<&'static str>) -> Cell {
        self.class = class;
        self
    }
    /// Spans `n` rows (a fault's name over its workloads' rows).
    pub(super) fn rowspan(mut self, n: usize) -> Cell {
        self.rowspan = n.max(1);
        self
    }
}

/// An HTML table built row by row.
pub(super) struct Table {
    cols: Vec<Col>,
    rows: Vec<Vec<Cell>>,
    /// Row indices that start a new group (a top border).
    group_starts: Vec<usize>,
}

impl Table {
    /// A table with these columns.
    pub(super) fn new(cols: Vec<Col>) -> Table {
        Table {
            cols,
            rows: Vec::new(),
            group_starts: Vec::new(),
        }
    }
    /// Appends a row.
    pub(super) fn row(&mut self, cells: Vec<Cell>) {
        self.rows.push(cells);
    }
    /// Appends a row that starts a group of rows (drawn with a stronger
    /// rule above it).
    pub(super) fn group_row(&mut self, cells: Vec<Cell>) {
        if !self.rows.is_empty() {
            self.group_starts.push(self.rows.len());
        }
        self.rows.push(cells);
    }
    /// Whether no row was added.
    pub(super) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// The table's markup, in a horizontally scrolling box so a wide
    /// table never widens the page.
    pub(super) fn html(&self) -> String {
        let mut out = String::from("<div class=\"tw\"><table>\n<thead><tr>");
        for c in &self.cols {
            let class = if c.num { " class=\"n\"" } else { "" };
            let _ = write!(out, "<th{class}>{}</th>", esc(&c.head));
        }
        out.push_str("</tr></thead>\n<tbody>\n");
        for (i, row) in self.rows.iter().enumerate() {
            if self.group_starts.contains(&i) {
                out.push_str("<tr class=\"g\">");
            } else {
                out.push_str("<tr>");
            }
            for c in row {
                let mut classes = Vec::new();
                if c.num {
                    classes.push("n");
                }
                classes.extend(c.class);
                out.push_str("<td");
                if !classes.is_empty() {
                    let _ = write!(out, " class=\"{}\"", classes.join(" "));
                }
                if c.rowspan > 1 {
                    let _ = write!(out, " rowspan=\"{}\"", c.rowspan);
                }
                let _ = write!(out, ">{}</td>", c.html);
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>\n");
        out
    }
}

/// A chart as a figure: its SVG inlined (see [`inline_svg`]) and its
/// title as the caption. `n` numbers the charts of a page so their SVG
/// ids stay unique.
pub(super) fn figure(c: &ChartFile, n: usize) -> String {
    let id = format!("chart-{}", slug(&c.name));
    let body = match &c.svg {
        Some(svg) => inline_svg(svg, &format!("c{n}-{}", slug(&c.name)), &c.title),
        None => "<p class=\"muted\">(this chart was drawn as PNG only)</p>".to_string(),
    };
    // The PNG beside the report, for slides and documents.
    let file = if c.png.is_some() {
        let href = esc(&format!("charts/{}.png", c.name));
        format!(" · <a href=\"{href}\">{href}</a>")
    } else {
        String::new()
    };
    format!(
        "<figure id=\"{}\">\n{body}\n<figcaption>{}{file}</figcaption>\n</figure>\n",
        esc(&id),
        esc(&c.title)
    )
}

/// A name reduced to characters safe in an id.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Namespace declarations HTML does not need for inline SVG; they are
/// dropped so the page holds no URL at all.
const XMLNS: [&str; 2] = [
    " xmlns=\"http://www.w3.org/2000/svg\"",
    " xmlns:xlink=\"http://www.w3.org/1999/xlink\"",
];

/// An SVG document made fit to sit inside an HTML page: anything before
/// the `<svg` element (an XML declaration, a doctype) dropped, the
/// namespace declarations dropped (HTML's parser puts `<svg>` in the SVG
/// namespace itself), labelled for screen readers with `title`, and
/// every `id` (and every reference to one) prefixed with `prefix`, so two
/// charts with the same ids do not clash on one page.
pub(super) fn inline_svg(svg: &str, prefix: &str, title: &str) -> String {
    let svg = svg.find("<svg").map_or(svg, |i| &svg[i..]);
    let mut svg = svg.to_string();
    for x in XMLNS {
        svg = svg.replace(x, "");
    }
    if let Some(rest) = svg.strip_prefix("<svg") {
        svg = format!("<svg role=\"img\" aria-label=\"{}\"{rest}", esc(title));
    }
    prefix_ids(svg.trim_end(), prefix)
}

/// Prefixes every `id="X"` attribute value and every reference to one
/// (`url(#X)`, `href="#X"`) with `prefix-`, in one pass.
fn prefix_ids(svg: &str, prefix: &str) -> String {
    let ids = ids(svg);
    if ids.is_empty() {
        return svg.to_string();
    }
    // Each pattern is followed by the id and then its terminator.
    const PATTERNS: [(&str, char); 5] = [
        ("id=\"", '"'),
        ("id='", '\''),
        ("url(#", ')'),
        ("=\"#", '"'),
        ("='#", '\''),
    ];
    let mut out = String::with_capacity(svg.len() + ids.len() * prefix.len());
    let mut i = 0;
    'scan: while i < svg.len() {
        let rest = &svg[i..];
        for (pat, end) in PATTERNS {
            let is_attr = pat.starts_with("id");
            if !rest.starts_with(pat) || (is_attr && !preceded_by_space(svg, i)) {
                continue;
            }
            let after = &rest[pat.len()..];
            if let Some(len) = after.find(end) {
                let name = &after[..len];
                if ids.iter().any(|x| x == name) {
                    out.push_str(pat);
                    out.push_str(prefix);
                    out.push('-');
                    out.push_str(name);
                    i += pat.len() + len;
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().expect("i is inside the string");
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn preceded_by_space(s: &str, i: usize) -> bool {
    s[..i].chars().last().is_some_and(char::is_whitespace)
}

/// The values of the `id` attributes in `svg`.
fn ids(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    for quote in ['"', '\''] {
        let pat = format!("id={quote}");
        let mut from = 0;
        while let Some(p) = svg[from..].find(&pat) {
            let at = from + p;
            from = at + pat.len();
            if !preceded_by_space(svg, at) {
                continue;
            }
            if let Some(len) = svg[from..].find(quote) {
                out.push(svg[from..from + len].to_string());
            }
        }
    }
    out
}

/// A page: a header, then sections listed in a table of contents.
pub(super) struct Page {
    title: String,
    header: String,
    sections: Vec<(String, String, String)>,
    /// The footer's markup, when not the run's (which files it was drawn
    /// from).
    footer: Option<String>,
}

impl Page {
    /// A page titled `title` (escaped here) with `header` markup under
    /// its heading.
    pub(super) fn new(title: &str, header: String) -> Page {
        Page {
            title: title.to_string(),
            header,
            sections: Vec::new(),
            footer: None,
        }
    }
    /// Replaces the footer (which names the files the page was drawn
    /// from) with `html`, for pages not drawn from a run's files.
    pub(super) fn footer(&mut self, html: String) {
        self.footer = Some(html);
    }
    /// Adds a section with an id, a heading (escaped here) and its body
    /// markup.
    pub(super) fn section(&mut self, id: &str, heading: &str, body: String) {
        self.sections
            .push((id.to_string(), heading.to_string(), body));
    }
    /// The whole document.
    pub(super) fn finish(self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n<main>\n<header>\n<h1>{}</h1>\n{}</header>\n",
            esc(&self.title),
            esc(&self.title),
            self.header
        );
        if self.sections.len() > 1 {
            out.push_str("<nav><ul>");
            for (id, heading, _) in &self.sections {
                let _ = write!(
                    out,
                    "<li><a href=\"#{}\">{}</a></li>",
                    esc(id),
                    esc(heading)
                );
            }
            out.push_str("</ul></nav>\n");
        }
        for (id, heading, body) in &self.sections {
            let _ = write!(
                out,
                "<section id=\"{}\">\n<h2>{}</h2>\n{body}</section>\n",
                esc(id),
                esc(heading)
            );
        }
        match &self.footer {
            Some(f) => {
                let _ = writeln!(out, "<footer>{f}</footer>");
            }
            None => out.push_str(
                "<footer>Drawn by microsim from the run's saved results (summary.json, \
                 timeseries.csv, percentiles.csv, run.json, scenario.toml); \
                 <code>microsim report DIR</code> on their directory draws it again.</footer>\n",
            ),
        }
        out.push_str("</main>\n</body>\n</html>\n");
        out
    }
}

/// The page's stylesheet: readable tables, charts scaled to the page
/// width, local fonts only.
const CSS: &str = r#"
:root { --ink: #1f2328; --muted: #656d76; --rule: #d0d7de; --soft: #f6f8fa;
  --bad: #b42318; --warn: #9a6700; --good: #1a7f37; --accent: #1f77b4; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Liberation Sans", sans-serif; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 12px; }
h1 { font-size: 28px; margin: 0 0 6px; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--rule); }
h3 { font-size: 16px; margin: 22px 0 6px; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 22px; margin: 0; padding: 0; list-style: none; color: var(--muted); }
.facts b { color: var(--ink); font-weight: 600; }
code, pre { font-family: "DejaVu Sans Mono", "Liberation Mono", Menlo, Consolas, monospace; font-size: 13px; }
.facts code { background: var(--soft); padding: 0 4px; border-radius: 3px; }
nav ul { display: flex; flex-wrap: wrap; gap: 4px 16px; list-style: none; margin: 8px 0 0; padding: 0; font-size: 14px; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
.callout { border-left: 4px solid var(--accent); background: #eef5fb; padding: 8px 12px; margin: 10px 0; }
.callout.warning { border-color: #d4a72c; background: #fff8e5; }
.callout p { margin: 2px 0; }
.tw { overflow-x: auto; margin: 8px 0 6px; }
table { border-collapse: collapse; font-size: 13.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; text-align: left; white-space: nowrap; }
th { background: var(--soft); border-bottom: 2px solid var(--rule); font-weight: 600; white-space: normal; vertical-align: bottom; min-width: 4.5em; }
td.n, th.n { text-align: right; }
td.wrap { white-space: normal; min-width: 14em; }
tbody tr:hover { background: #f3f8fd; }
tr.g td { border-top: 2px solid var(--rule); }
.bad { color: var(--bad); font-weight: 600; }
.warn { color: var(--warn); font-weight: 600; }
.good { color: var(--good); }
.muted, .sub { color: var(--muted); }
.sub { display: block; font-size: 12px; }
.sw { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; vertical-align: baseline; }
figure { margin: 18px 0; padding: 10px; border: 1px solid var(--rule); border-radius: 6px; background: #fff; break-inside: avoid; }
figure svg { display: block; max-width: 100%; height: auto; margin: 0 auto; }
figcaption { margin-top: 6px; font-size: 13px; color: var(--muted); text-align: center; }
p.note { color: var(--muted); font-size: 13.5px; margin: 4px 0; }
details { margin: 12px 0; border: 1px solid var(--rule); border-radius: 6px; }
details > summary { cursor: pointer; padding: 8px 12px; background: var(--soft); font-weight: 600; }
details > .tw { margin: 8px 12px; }
details pre { margin: 0; padding: 12px; overflow-x: auto; line-height: 1.4; }
footer { margin-top: 40px; padding-top: 10px; border-top: 1px solid var(--rule); color: var(--muted); font-size: 12.5px; }
@media print { main { max-width: none; padding: 0; } nav { display: none; } h2 { break-after: avoid; } }
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(esc("<b>&\"x'</b>"), "&lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;");
        assert_eq!(esc("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn relative_links_are_percent_encoded() {
        assert_eq!(rel_href("fast", "report.html"), "fast/report.html");
        assert_eq!(
            rel_href("a b/<c>", "report.html"),
            "a%20b%2F%3Cc%3E/report.html"
        );
    }

    #[test]
    fn svg_is_inlined_without_namespaces_and_with_prefixed_ids() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"10\" height=\"5\" viewBox=\"0 0 10 5\" xmlns=\"http://www.w3.org/2000/svg\">\n\
                   <defs><clipPath id=\"clip\"><rect/></clipPath><clipPath id=\"clip2\"/></defs>\n\
                   <g clip-path=\"url(#clip)\" data-id=\"clip\"><use href=\"#clip2\"/><text>id=\"clip\" ü</text></g>\n</svg>\n";
        let out = inline_svg(svg, "c3-lat", "Latency <p99>");
        assert!(
            out.starts_with("<svg role=\"img\" aria-label=\"Latency &lt;p99&gt;\" width=\"10\""),
            "{out}"
        );
        assert!(!out.contains("http"), "{out}");
        assert!(out.contains("id=\"c3-lat-clip\""), "{out}");
        assert!(out.contains("id=\"c3-lat-clip2\""), "{out}");
        assert!(out.contains("url(#c3-lat-clip)"), "{out}");
        assert!(out.contains("href=\"#c3-lat-clip2\""), "{out}");
        // Not an id attribute: left alone.
        assert!(out.contains("data-id=\"clip\""), "{out}");
        assert!(out.contains("<text>id=\"clip\" ü</text>"), "{out}");
        assert!(out.ends_with("</svg>"), "{out}");
        assert!(out.contains('ü'));
        // Without ids the SVG passes through unchanged but for the label.
        let plain = inline_svg("<svg width=\"1\"><rect/></svg>", "p", "t");
        assert_eq!(
            plain,
            "<svg role=\"img\" aria-label=\"t\" width=\"1\"><rect/></svg>"
        );
    }

    #[test]
    fn two_figures_of_one_chart_get_distinct_ids() {
        let c = ChartFile {
            name: "lat ency".into(),
            title: "A & B".into(),
            svg: Some("<svg><clipPath id=\"a\"/><g clip-path=\"url(#a)\"/></svg>".into()),
            png: None,
        };
        let (a, b) = (figure(&c, 0), figure(&c, 1));
        assert!(
            a.contains("id=\"c0-lat_ency-a\"") && a.contains("url(#c0-lat_ency-a)"),
            "{a}"
        );
        assert!(b.contains("id=\"c1-lat_ency-a\""), "{b}");
        assert!(a.contains("<figcaption>A &amp; B</figcaption>"), "{a}");
        assert!(a.contains("<figure id=\"chart-lat_ency\">"), "{a}");
        let with_png = figure(
            &ChartFile {
                png: Some(vec![1]),
                ..c.clone()
            },
            2,
        );
        assert!(
            with_png
                .contains("A &amp; B · <a href=\"charts/lat ency.png\">charts/lat ency.png</a>"),
            "{with_png}"
        );
    }

    #[test]
    fn tables_align_numbers_and_span_rows() {
        let mut t = Table::new(vec![Col::l("name"), Col::r("n")]);
        t.row(vec![
            Cell::text("<x>").rowspan(2),
            Cell::num("1").class(Some("bad")),
        ]);
        t.group_row(vec![Cell::num("2")]);
        let h = t.html();
        assert!(h.contains("<th class=\"n\">n</th>"), "{h}");
        assert!(
            h.contains("<td rowspan=\"2\">&lt;x&gt;</td><td class=\"n bad\">1</td>"),
            "{h}"
        );
        assert!(h.contains("<tr class=\"g\"><td class=\"n\">2</td>"), "{h}");
    }
}
