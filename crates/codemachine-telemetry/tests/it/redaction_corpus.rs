//! The checked-in corpus `tests/data/redaction_corpus.tsv`: realistic lines with secrets and
//! look-alikes, each with the exact output expected from `Redactor::scrub` (and scrubbing the
//! output again must change nothing).

use codemachine_telemetry::Redactor;

const CORPUS: &str = include_str!("../data/redaction_corpus.tsv");

#[test]
fn every_corpus_line_scrubs_to_its_expected_output() {
    let redactor = Redactor::new();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for line in CORPUS
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (input, expected) = line
            .split_once('\t')
            .unwrap_or_else(|| panic!("a corpus line without a TAB: {line}"));
        let expected = if expected == "=" { input } else { expected };
        let out = redactor.scrub(input);
        if out != expected || redactor.scrub(&out) != out {
            wrong.push(format!("{input}\n  got  {out}\n  want {expected}"));
        }
        checked += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 50, "the corpus shrank to {checked} lines");
}
