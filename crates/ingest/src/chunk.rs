//! Bounded-memory chunking of a byte stream into runs of whole lines.
//!
//! A chunk ends at a newline so chunks can be parsed independently and in parallel; each
//! knows the number of its first line. A line longer than the limit is never buffered whole:
//! it is reported once and skipped up to its newline, so a 10 GB line costs no more memory
//! than a short one.

use std::io::{self, Read};

/// A run of whole lines.
#[derive(Debug, Default)]
pub struct Chunk {
    pub data: Vec<u8>,
    /// 1-based number of the first line in `data`.
    pub first_line: u64,
    /// Lines dropped before this chunk because they exceeded the limit (their line numbers).
    pub overlong: Vec<u64>,
}

pub struct Chunker<R> {
    reader: R,
    buf: Vec<u8>,
    /// Line number of the first byte of `buf`.
    line: u64,
    chunk_size: usize,
    max_line: usize,
    discarding: bool,
    eof: bool,
    pending_overlong: Vec<u64>,
}

const READ_BLOCK: usize = 256 * 1024;

impl<R: Read> Chunker<R> {
    /// `chunk_size`: target bytes per chunk; `max_line`: the longest line kept.
    pub fn new(reader: R, chunk_size: usize, max_line: usize) -> Chunker<R> {
        Chunker {
            reader,
            buf: Vec::with_capacity(chunk_size.min(16 << 20) + READ_BLOCK),
            line: 1,
            chunk_size: chunk_size.max(1),
            max_line: max_line.max(1),
            discarding: false,
            eof: false,
            pending_overlong: Vec::new(),
        }
    }

    /// Reads up to one block into `buf`. Returns bytes read (0 at end of input).
    fn fill(&mut self) -> io::Result<usize> {
        // `read_to_end` reads into spare capacity without zero-filling it first (a `resize`
        // to the block size cost a 256 KB memset per block); `take` bounds it to one block.
        // On an error, what earlier reads of this block delivered stays in `buf`, as when
        // each read was its own block.
        self.buf.reserve(READ_BLOCK);
        let n = (&mut self.reader)
            .take(READ_BLOCK as u64)
            .read_to_end(&mut self.buf)?;
        if n == 0 {
            self.eof = true;
        }
        Ok(n)
    }

    /// A fresh buffer holding `rest`, with room for a whole chunk: growing from `rest`'s
    /// size by doubling cost a copy and fresh pages per step, every chunk.
    fn fresh_buf(&self, rest: &[u8]) -> Vec<u8> {
        let mut buf = Vec::with_capacity(self.chunk_size.min(16 << 20) + READ_BLOCK);
        buf.extend_from_slice(rest);
        buf
    }

    /// The next chunk, `Ok(None)` at the end. After an `Err` the stream is finished; the
    /// chunks already returned stay valid.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        loop {
            if self.discarding {
                match memchr::memchr(b'\n', &self.buf) {
                    Some(p) => {
                        self.buf.drain(..=p);
                        self.line += 1;
                        self.discarding = false;
                    }
                    None => {
                        self.buf.clear();
                        if self.eof {
                            return Ok(self.finish_overlong_only());
                        }
                        if let Err(e) = self.fill() {
                            self.eof = true;
                            return Err(e);
                        }
                        continue;
                    }
                }
            }
            if self.buf.len() >= self.chunk_size || self.eof {
                if let Some(p) = memchr::memrchr(b'\n', &self.buf) {
                    // A line inside the chunk may still be too long; the parser side checks
                    // each line against the same limit.
                    let rest = self.fresh_buf(self.buf.get(p + 1..).unwrap_or_default());
                    let mut data = std::mem::replace(&mut self.buf, rest);
                    data.truncate(p + 1);
                    let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
                    let chunk = Chunk {
                        data,
                        first_line: self.line,
                        overlong: std::mem::take(&mut self.pending_overlong),
                    };
                    self.line += lines;
                    return Ok(Some(chunk));
                }
                if self.buf.len() > self.max_line {
                    self.pending_overlong.push(self.line);
                    self.discarding = true;
                    continue;
                }
                if self.eof {
                    if self.buf.is_empty() {
                        return Ok(self.finish_overlong_only());
                    }
                    let data = std::mem::take(&mut self.buf);
                    let chunk = Chunk {
                        data,
                        first_line: self.line,
                        overlong: std::mem::take(&mut self.pending_overlong),
                    };
                    self.line += 1;
                    return Ok(Some(chunk));
                }
            }
            if let Err(e) = self.fill() {
                self.eof = true;
                return Err(e);
            }
        }
    }

    fn finish_overlong_only(&mut self) -> Option<Chunk> {
        if self.pending_overlong.is_empty() {
            None
        } else {
            Some(Chunk {
                data: Vec::new(),
                first_line: self.line,
                overlong: std::mem::take(&mut self.pending_overlong),
            })
        }
    }
}

/// Iterates the lines of a chunk as `(line_number, bytes)`, without the `\n` or a `\r\n`.
pub fn lines(chunk: &Chunk) -> impl Iterator<Item = (u64, &[u8])> {
    line_spans(chunk).map(|(n, span)| (n, chunk.data.get(span).unwrap_or_default()))
}

/// [`lines`] as byte ranges of `chunk.data`, so a caller that validated the whole chunk as
/// UTF-8 once can take each line as `&str` without validating it again.
pub fn line_spans(chunk: &Chunk) -> impl Iterator<Item = (u64, std::ops::Range<usize>)> + '_ {
    let mut n = chunk.first_line;
    let data = &chunk.data[..];
    let end = data.len() - usize::from(data.ends_with(b"\n"));
    // memchr finds each newline many bytes at a time (a byte-wise split was ~5% of parsing).
    let mut from = (!data.is_empty()).then_some(0);
    std::iter::from_fn(move || {
        let start = from?;
        let stop = match data.get(start..end).and_then(|r| memchr::memchr(b'\n', r)) {
            Some(p) => {
                from = Some(start + p + 1);
                start + p
            }
            None => {
                from = None;
                end
            }
        };
        let stop = if stop > start && data.get(stop - 1) == Some(&b'\r') {
            stop - 1
        } else {
            stop
        };
        let here = n;
        n += 1;
        Some((here, start..stop))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(input: &[u8], chunk: usize, max: usize) -> (Vec<(u64, Vec<u8>)>, Vec<u64>) {
        let mut c = Chunker::new(input, chunk, max);
        let mut out = Vec::new();
        let mut over = Vec::new();
        while let Some(ch) = c.next_chunk().expect("chunk") {
            over.extend(ch.overlong.iter().copied());
            for (n, l) in lines(&ch) {
                out.push((n, l.to_vec()));
            }
        }
        (out, over)
    }

    #[test]
    fn numbers_lines_across_chunks() {
        let text: Vec<u8> = (1..=1000)
            .flat_map(|i| format!("line {i}\n").into_bytes())
            .collect();
        let (lines, over) = collect(&text, 100, 1000);
        assert!(over.is_empty());
        assert_eq!(lines.len(), 1000);
        for (i, (n, l)) in lines.iter().enumerate() {
            assert_eq!(*n, i as u64 + 1);
            assert_eq!(l, format!("line {}", i + 1).as_bytes());
        }
    }

    #[test]
    fn last_line_without_newline_and_crlf() {
        let (lines, _) = collect(b"a\r\nb\nc", 2, 100);
        assert_eq!(
            lines,
            vec![(1, b"a".to_vec()), (2, b"b".to_vec()), (3, b"c".to_vec())]
        );
    }

    #[test]
    fn overlong_line_is_skipped_with_its_number() {
        let mut text = b"first\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', 3 * READ_BLOCK));
        text.extend(b"\nthird\n");
        let (lines, over) = collect(&text, 1024, 4096);
        assert_eq!(over, vec![2]);
        assert_eq!(lines, vec![(1, b"first".to_vec()), (3, b"third".to_vec())]);
    }

    proptest::proptest! {
        /// Lines are `\n`-separated, a final `\n` ends the last line, one `\r` before
        /// each end is dropped.
        #[test]
        fn lines_split_like_the_reference(data in "[ab\r\n]{0,40}") {
            let chunk = Chunk { data: data.clone().into_bytes(), first_line: 7, overlong: Vec::new() };
            let got: Vec<(u64, Vec<u8>)> = lines(&chunk).map(|(n, l)| (n, l.to_vec())).collect();
            let body = data.strip_suffix('\n').unwrap_or(&data);
            let want: Vec<(u64, Vec<u8>)> = if data.is_empty() {
                Vec::new()
            } else {
                body.split('\n')
                    .zip(7..)
                    .map(|(l, n)| (n, l.strip_suffix('\r').unwrap_or(l).as_bytes().to_vec()))
                    .collect()
            };
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn empty_input_has_no_chunks() {
        let (lines, over) = collect(b"", 10, 10);
        assert!(lines.is_empty() && over.is_empty());
    }
}
