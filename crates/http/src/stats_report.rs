//! Statistics reports as files for third parties: CSV and JSON, small cells already suppressed.

use kikeru_domain::privacy::stats::Report;
use serde_json::{Value, json};

/// The report as CSV: one table with a `section` column.
pub fn report_csv(report: &Report) -> String {
    let mut out = String::from("section,day,method,path,browser,os,device,status,requests\n");
    let field = |text: &str| {
        if text.contains([',', '"', '\n']) {
            format!("\"{}\"", text.replace('"', "\"\""))
        } else {
            text.to_owned()
        }
    };
    for (day, method, path, n) in &report.page_views {
        out.push_str(&format!(
            "page_views,{day},{},{},,,,,{n}\n",
            field(method),
            field(path)
        ));
    }
    for (family, os, device, n) in &report.browsers {
        out.push_str(&format!(
            "browsers,,,,{},{},{},,{n}\n",
            field(family),
            field(os),
            field(device)
        ));
    }
    for (status, n) in &report.statuses {
        out.push_str(&format!("statuses,,,,,,,{status},{n}\n"));
    }
    out
}

/// The report as JSON.
pub fn report_json(report: &Report) -> Value {
    json!({
        "k": report.k,
        "suppressed_cells": report.suppressed,
        "page_views": report.page_views.iter().map(|(day, method, path, n)| json!({"day": day.to_string(), "method": method, "path": path, "requests": n})).collect::<Vec<_>>(),
        "browsers": report.browsers.iter().map(|(family, os, device, n)| json!({"browser": family, "os": os, "device": device, "requests": n})).collect::<Vec<_>>(),
        "statuses": report.statuses.iter().map(|(status, n)| json!({"status": status, "requests": n})).collect::<Vec<_>>(),
    })
}
