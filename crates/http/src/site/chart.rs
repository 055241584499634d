//! Charts as server-rendered SVG: no script, nothing the strict CSP forbids (colours are
//! presentation attributes, not `style`), and accessible — each chart is an image named by
//! its `<title>` and described by its `<desc>`, every mark carries its value in a `<title>`, and
//! the page puts the same numbers in a data table beside it. The colours have at least 3:1
//! contrast with the white background (WCAG 1.4.11) and the series differ in more than colour
//! (the legend names them in stacking order, bottom first).

use std::fmt::Write as _;

/// The first series' colour (blue, 6.2:1 on white).
pub(crate) const BLUE: &str = "#1f5fa8";
/// The second series' colour (rust, 5.0:1 on white).
pub(crate) const RUST: &str = "#b0481b";
/// The third series' colour (purple, 7.4:1 on white).
pub(crate) const PURPLE: &str = "#5e3a96";
const INK: &str = "#222222";
const GRID: &str = "#767676";

const WIDTH: f64 = 640.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 36.0;

use crate::pages::escape;

/// What a chart is called and what it shows, for the accessible name and description.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caption<'a> {
    /// An ID unique on the page (letters, digits, `-`).
    pub(crate) id: &'a str,
    /// The chart's title.
    pub(crate) title: &'a str,
    /// One or two sentences: what is plotted, over what, and where the table is.
    pub(crate) desc: &'a str,
}

fn open(out: &mut String, caption: &Caption<'_>, height: f64) {
    let id = escape(caption.id);
    let _ = write!(
        out,
        "<svg class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" \
         viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"12\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>\
         <rect width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>",
        escape(caption.title),
        escape(caption.desc),
    );
}

/// A ceiling for the axis: 1, 2 or 5 times a power of ten, at least `max`.
fn nice(max: i64) -> i64 {
    let max = max.max(1);
    let mut step = 1_i64;
    loop {
        for m in [1, 2, 5] {
            if step.saturating_mul(m) >= max {
                return step.saturating_mul(m);
            }
        }
        step = step.saturating_mul(10);
    }
}

fn axis(out: &mut String, height: f64, top_value: i64) {
    let bottom = height - BOTTOM;
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bottom}\" stroke=\"{GRID}\"/>\
         <line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" stroke=\"{GRID}\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{INK}\">{top_value}</text>\
         <text x=\"{}\" y=\"{bottom}\" text-anchor=\"end\" fill=\"{INK}\">0</text>",
        WIDTH - RIGHT,
        LEFT - 6.0,
        TOP + 4.0,
        LEFT - 6.0,
    );
}

/// A line over `points` (label, value), oldest first: page views per day.
pub(crate) fn line(caption: &Caption<'_>, points: &[(String, i64)]) -> String {
    let height = 240.0;
    let mut out = String::new();
    open(&mut out, caption, height);
    let top = nice(points.iter().map(|p| p.1).max().unwrap_or(0));
    axis(&mut out, height, top);
    let plot = WIDTH - LEFT - RIGHT;
    let bottom = height - BOTTOM;
    let step = if points.len() > 1 {
        plot / (points.len() - 1) as f64
    } else {
        0.0
    };
    let at = |i: usize, v: i64| {
        (
            LEFT + step * i as f64,
            bottom - (bottom - TOP) * v as f64 / top as f64,
        )
    };
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (x, y) = at(i, p.1);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    let _ = write!(
        out,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{BLUE}\" stroke-width=\"2\"/>",
        path.join(" ")
    );
    for (i, (label, value)) in points.iter().enumerate() {
        let (x, y) = at(i, *value);
        let _ = write!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"3\" fill=\"{BLUE}\"><title>{}: {value}</title></circle>",
            escape(label)
        );
    }
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        let _ = write!(
            out,
            "<text x=\"{LEFT}\" y=\"{}\" fill=\"{INK}\">{}</text>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>",
            height - 12.0,
            escape(&first.0),
            WIDTH - RIGHT,
            height - 12.0,
            escape(&last.0)
        );
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one per (label, value), in the given order: browsers, status codes.
pub(crate) fn bars(caption: &Caption<'_>, rows: &[(String, i64)]) -> String {
    let row_height = 24.0;
    let label_width = 220.0;
    let height = TOP + row_height * rows.len().max(1) as f64 + 8.0;
    let mut out = String::new();
    open(&mut out, caption, height);
    let top = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let room = WIDTH - label_width - RIGHT - 64.0;
    for (i, (label, value)) in rows.iter().enumerate() {
        let y = TOP + row_height * i as f64;
        let width = room * (*value).max(0) as f64 / top as f64;
        let short: String = label.chars().take(32).collect();
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>\
             <rect x=\"{label_width}\" y=\"{}\" width=\"{width:.1}\" height=\"{}\" fill=\"{BLUE}\"><title>{}: {value}</title></rect>\
             <text x=\"{:.1}\" y=\"{}\" fill=\"{INK}\">{value}</text>",
            label_width - 8.0,
            y + 16.0,
            escape(&short),
            y + 4.0,
            row_height - 8.0,
            escape(label),
            label_width + width + 6.0,
            y + 16.0,
        );
    }
    out.push_str("</svg>");
    out
}

/// One column of a stacked bar chart: its label and the value of each series, bottom first.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// Under the column.
    pub(crate) label: String,
    /// One per series (negative values are drawn as zero; the table has them).
    pub(crate) values: Vec<i64>,
}

/// Vertical bars with their series stacked (bottom first), named by `series` (name, colour) in
/// a legend: net sales with refunds and chargebacks on top, so each column is the gross.
pub(crate) fn stacked(
    caption: &Caption<'_>,
    series: &[(&str, &str)],
    columns: &[Column],
) -> String {
    let height = 280.0;
    let mut out = String::new();
    open(&mut out, caption, height);
    let top = nice(
        columns
            .iter()
            .map(|c| c.values.iter().map(|v| (*v).max(0)).sum::<i64>())
            .max()
            .unwrap_or(0),
    );
    axis(&mut out, height, top);
    let mut x = LEFT;
    for (name, colour) in series {
        let _ = write!(
            out,
            "<rect x=\"{x}\" y=\"6\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"16\" fill=\"{INK}\">{}</text>",
            x + 16.0,
            escape(name)
        );
        x += 24.0 + 8.0 * name.chars().count() as f64 + 24.0;
    }
    let plot = WIDTH - LEFT - RIGHT;
    let bottom = height - BOTTOM;
    let slot = plot / columns.len().max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    // At most about twelve labels under the axis; every column keeps its value in its title.
    let every = columns.len().div_ceil(12).max(1);
    for (i, column) in columns.iter().enumerate() {
        let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
        let mut y = bottom;
        for (k, value) in column.values.iter().enumerate() {
            let h = (bottom - TOP) * (*value).max(0) as f64 / top as f64;
            y -= h;
            let (name, colour) = series.get(k).copied().unwrap_or(("", INK));
            let _ = write!(
                out,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{} {}: {value}</title></rect>",
                escape(&column.label),
                escape(name)
            );
        }
        if i % every == 0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>",
                x + bar / 2.0,
                height - 14.0,
                escape(&column.label)
            );
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTION: Caption<'static> = Caption {
        id: "c",
        title: "Sales <by> month",
        desc: "Net & returns",
    };

    #[test]
    fn charts_are_named_described_and_escaped() {
        for svg in [
            line(&CAPTION, &[("2026-04-01".into(), 3), ("<b>".into(), 5)]),
            bars(&CAPTION, &[("Firefox \"x\"".into(), 3)]),
            stacked(
                &CAPTION,
                &[("net", BLUE), ("refunds", RUST)],
                &[Column {
                    label: "2026-04".into(),
                    values: vec![10, -2],
                }],
            ),
        ] {
            assert!(svg.starts_with(
                "<svg class=\"chart\" role=\"img\" aria-labelledby=\"c-title c-desc\""
            ));
            assert!(svg.contains("<title id=\"c-title\">Sales &lt;by&gt; month</title>"));
            assert!(svg.contains("<desc id=\"c-desc\">Net &amp; returns</desc>"));
            assert!(!svg.contains("<b>") && !svg.contains("style="), "{svg}");
            assert!(svg.ends_with("</svg>"));
        }
    }

    #[test]
    fn each_mark_carries_its_value_and_empty_charts_still_draw() {
        let svg = stacked(
            &CAPTION,
            &[("net", BLUE), ("refunds", RUST)],
            &[Column {
                label: "2026-05".into(),
                values: vec![4400, 1650],
            }],
        );
        assert!(svg.contains("<title>2026-05 net: 4400</title>"));
        assert!(svg.contains("<title>2026-05 refunds: 1650</title>"));
        assert!(
            svg.contains(">10000</text>"),
            "the axis tops at a round number"
        );
        assert!(line(&CAPTION, &[]).ends_with("</svg>"));
        assert!(bars(&CAPTION, &[]).ends_with("</svg>"));
        assert_eq!(
            (nice(0), nice(7), nice(120), nice(6051)),
            (1, 10, 200, 10000)
        );
    }
}
