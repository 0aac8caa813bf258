//! The JUnit XML report of a command's assertions (`--junit FILE`), the
//! format CI systems (GitHub Actions test reporters, GitLab, Jenkins) show
//! natively: one test suite for the command, one test case per assertion
//! and subject, a `<failure>` for each that failed. No timestamps or
//! durations, so the file is a pure function of the results.

use super::{tally, Outcome};
use std::io::Write;
use std::path::Path;

/// The XML text of the report: suite `suite` (e.g. `microsim run
/// checkout`), each outcome a test case whose class is its subject (a
/// variant) or else `class` (the scenario's name), with a subject that
/// has dots (a sweep point) named after the assertion in brackets.
pub fn xml(suite: &str, class: &str, outcomes: &[Outcome]) -> String {
    let t = tally(outcomes);
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    s.push_str(&format!(
        "<testsuites name=\"microsim\" tests=\"{}\" failures=\"{}\" errors=\"0\">\n",
        outcomes.len(),
        t.failed
    ));
    s.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">\n",
        escape(suite),
        outcomes.len(),
        t.failed
    ));
    for o in outcomes {
        // Jenkins reads a dotted class name as package.class, so a sweep
        // point (`payment.replicas=1, arrival.rate=100`) would be split at
        // its last dot; such a subject goes into the test's name instead,
        // under the scenario's class.
        let (classname, name) = match o.subject.as_deref() {
            Some(subject) if !subject.contains('.') => (subject, o.name.clone()),
            Some(subject) => (class, format!("{} [{subject}]", o.name)),
            None => (class, o.name.clone()),
        };
        s.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\">\n",
            escape(classname),
            escape(&name)
        ));
        if o.passed {
            s.push_str(&format!(
                "      <system-out>{}: measured {}</system-out>\n",
                escape(&o.expr),
                escape(&o.measured_text())
            ));
        } else {
            s.push_str(&format!(
                "      <failure message=\"{}\" type=\"threshold\">{}: {}</failure>\n",
                escape(&o.message()),
                escape(&o.expr),
                escape(&o.message())
            ));
        }
        s.push_str("    </testcase>\n");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

/// `text` safe in XML text and attribute values: the five special
/// characters as entities, and characters XML 1.0 cannot hold at all
/// (control characters other than tab, newline and carriage return)
/// replaced by U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Writes the report to `path` atomically: to a temporary file beside it,
/// then renamed into place, so CI never reads a half-written report.
pub fn write(path: &Path, suite: &str, class: &str, outcomes: &[Outcome]) -> std::io::Result<()> {
    // A link is followed (the link stays); a device is refused, not
    // renamed over.
    let path = &crate::report::output::regular_target(path).map_err(std::io::Error::other)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let base = path
        .file_name()
        .map_or_else(|| "junit.xml".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{base}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(xml(suite, class, outcomes).as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::catalog::Unit;

    fn outcome(subject: Option<&str>, name: &str, measured: Option<f64>, passed: bool) -> Outcome {
        Outcome {
            subject: subject.map(str::to_string),
            name: name.into(),
            expr: "w.p99 < 250ms".into(),
            unit: Unit::Ms,
            measured,
            passed,
            missing: measured.is_none().then(|| "no request completed".into()),
        }
    }

    #[test]
    fn escapes_everything_xml_cannot_hold() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\u{1}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}&#10;"
        );
    }

    #[test]
    fn report_structure() {
        let x = xml(
            "microsim run <demo>",
            "demo",
            &[
                outcome(None, "fast & \"safe\"", Some(212.0), true),
                outcome(Some("x<4"), "w.p99 < 250ms", Some(312.0), false),
            ],
        );
        let want = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<testsuites name=\"microsim\" tests=\"2\" failures=\"1\" errors=\"0\">
  <testsuite name=\"microsim run &lt;demo&gt;\" tests=\"2\" failures=\"1\" errors=\"0\" skipped=\"0\">
    <testcase classname=\"demo\" name=\"fast &amp; &quot;safe&quot;\">
      <system-out>w.p99 &lt; 250ms: measured 212.00 ms</system-out>
    </testcase>
    <testcase classname=\"x&lt;4\" name=\"w.p99 &lt; 250ms\">
      <failure message=\"measured 312.00 ms, limit &lt; 250ms\" type=\"threshold\">w.p99 &lt; 250ms: measured 312.00 ms, limit &lt; 250ms</failure>
    </testcase>
  </testsuite>
</testsuites>
";
        assert_eq!(x, want);
    }
}
