//! Terminal output for the read commands: writing to stdout (a closed pipe is not an error),
//! aligned tables, UTC times and the units used in every listing. No database access here.

use std::io::Write as _;
use std::process::ExitCode;

/// Writes `text` to stdout in one go. A reader that went away (`| head`) is not a failure.
pub fn emit(text: &str) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(_) => ExitCode::FAILURE,
    }
}

/// Pretty JSON with a final newline.
pub fn json<T: serde::Serialize>(value: &T) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(value).map(|mut s| {
        s.push('\n');
        s
    })
}

/// Columns padded to their widest cell; numeric columns right-aligned.
#[derive(Debug)]
pub struct Table {
    header: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// `columns`: (title, right-aligned).
    pub fn new(columns: &[(&str, bool)]) -> Self {
        Self {
            header: columns.iter().map(|(t, _)| (*t).to_owned()).collect(),
            right: columns.iter().map(|(_, r)| *r).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self, out: &mut String) {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                let width = widths.get(i).copied().unwrap_or(0);
                if i > 0 {
                    line.push_str("  ");
                }
                if self.right.get(i).copied().unwrap_or(false) {
                    line.push_str(&format!("{cell:>width$}"));
                } else {
                    line.push_str(&format!("{cell:<width$}"));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS`, UTC, from unix milliseconds.
pub fn utc(ms: i64) -> String {
    switchyard_core::record::utc_timestamp(ms)
        .replacen('T', " ", 1)
        .trim_end_matches('Z')
        .to_owned()
}

/// Milliseconds with one decimal, `-` when unknown.
pub fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} ms"))
}

pub fn cost(usd: Option<f64>) -> String {
    let Some(c) = usd else {
        return "-".to_owned();
    };
    if c == 0.0 {
        "$0".to_owned()
    } else if c < 0.01 {
        format!("${c:.6}")
    } else {
        format!("${c:.2}")
    }
}

pub fn count(v: Option<i64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::{Table, cost, utc};

    #[test]
    fn utc_times() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(utc(1_795_311_001_649), "2026-11-22 01:30:01");
        assert_eq!(utc(4_102_444_799_000), "2099-12-31 23:59:59");
        assert_eq!(utc(-1000), "1969-12-31 23:59:59");
    }

    #[test]
    fn costs() {
        assert_eq!(cost(None), "-");
        assert_eq!(cost(Some(0.0)), "$0");
        assert_eq!(cost(Some(0.000_017_1)), "$0.000017");
        assert_eq!(cost(Some(1.234)), "$1.23");
    }

    #[test]
    fn tables_align() {
        let mut t = Table::new(&[("NAME", false), ("N", true)]);
        t.row(vec!["alpha".into(), "7".into()]);
        t.row(vec!["b".into(), "1234".into()]);
        let mut out = String::new();
        t.render(&mut out);
        assert_eq!(out, "NAME      N\nalpha     7\nb      1234\n");
    }
}
