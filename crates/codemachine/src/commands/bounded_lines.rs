//! Reading input line by line with a bound on how much of one line is held in memory: a line
//! without an end (a 10 GB file with no line break) costs at most the bound, never the file.

use std::io::{self, BufRead, Read};

/// Reads one line into `line` (at most `max` bytes kept, line break included); `Some(true)`
/// when the line was longer and the rest of it was skipped, `None` at the end of input.
pub fn read_bounded_line(
    input: &mut impl BufRead,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<bool>> {
    line.clear();
    let kept = input.by_ref().take(max as u64).read_until(b'\n', line)?;
    if kept == 0 {
        return Ok(None);
    }
    if line.ends_with(b"\n") || kept < max {
        return Ok(Some(false));
    }
    skip_rest_of_line(input).map(Some)
}

/// Skips to the next line; true when there was anything to skip.
fn skip_rest_of_line(input: &mut impl BufRead) -> io::Result<bool> {
    let mut skipped = false;
    loop {
        let chunk = input.fill_buf()?;
        if chunk.is_empty() {
            return Ok(skipped);
        }
        match chunk.iter().position(|b| *b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(skipped || i > 0);
            }
            None => {
                skipped = true;
                let n = chunk.len();
                input.consume(n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<(String, bool)> {
        let mut input = input;
        let mut line = Vec::new();
        let mut out = Vec::new();
        while let Some(cut) = read_bounded_line(&mut input, &mut line, max).unwrap() {
            out.push((String::from_utf8(line.clone()).unwrap(), cut));
        }
        out
    }

    #[test]
    fn long_lines_are_cut_and_the_rest_skipped() {
        assert_eq!(
            lines(b"short\n0123456789abc\nend", 8),
            [
                ("short\n".to_owned(), false),
                ("01234567".to_owned(), true),
                ("end".to_owned(), false)
            ]
        );
    }

    #[test]
    fn a_line_of_exactly_the_bound_is_whole() {
        assert_eq!(lines(b"01234567", 8), [("01234567".to_owned(), false)]);
        assert_eq!(lines(b"0123456\n", 8), [("0123456\n".to_owned(), false)]);
        assert_eq!(
            lines(b"01234567\nx", 8),
            [("01234567".to_owned(), false), ("x".to_owned(), false)]
        );
    }
}
