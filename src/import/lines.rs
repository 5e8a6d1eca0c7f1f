//! The feed read as lines of bytes: a line that is not UTF-8, or too long, is one rejected
//! line rather than the end of the import, and a long line is never held whole.

use std::io::{self, BufRead, ErrorKind};

/// The longest line the import reads, in bytes without its line break. A longer line is
/// rejected as it streams past: at most this much of it is held at once.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// What a line held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// Text, without its line break (`\n` or `\r\n`) or, on the first line, a byte-order mark.
    Text(String),
    /// Bytes that are not UTF-8; the first bad one is at `at` (counted from 1).
    NotUtf8 { at: usize },
    /// `bytes` bytes, more than the reader's `limit`.
    TooLong { bytes: u64, limit: usize },
}

/// One line of the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Counted from 1.
    pub number: u64,
    /// Bytes the line took in the feed, line break included (for the progress bar).
    pub bytes: u64,
    pub content: Content,
}

/// The lines of a feed, one at a time.
pub struct Lines<R> {
    reader: R,
    max_bytes: usize,
    number: u64,
    held: Vec<u8>,
}

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

impl<R: BufRead> Lines<R> {
    /// Reads `reader`, refusing lines longer than `max_bytes` (see [`MAX_LINE_BYTES`]).
    pub fn new(reader: R, max_bytes: usize) -> Self {
        Self {
            reader,
            max_bytes,
            number: 0,
            held: Vec::new(),
        }
    }

    /// The next line, or `None` after the last. A feed that ends with a line break has no
    /// empty line after it.
    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        self.held.clear();
        let mut bytes: u64 = 0;
        let mut too_long = false;
        let mut line_break = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                if bytes == 0 {
                    return Ok(None);
                }
                break;
            }
            let newline = available.iter().position(|byte| *byte == b'\n');
            let part = &available[..newline.unwrap_or(available.len())];
            if !too_long {
                if self.held.len() + part.len() > self.max_bytes {
                    too_long = true;
                    self.held.clear();
                } else {
                    self.held.extend_from_slice(part);
                }
            }
            let used = part.len() + usize::from(newline.is_some());
            self.reader.consume(used);
            bytes += used as u64;
            if newline.is_some() {
                line_break = true;
                break;
            }
        }
        self.number += 1;
        let content = if too_long {
            Content::TooLong {
                bytes: bytes - u64::from(line_break),
                limit: self.max_bytes,
            }
        } else {
            self.content()
        };
        Ok(Some(Line {
            number: self.number,
            bytes,
            content,
        }))
    }

    fn content(&self) -> Content {
        let mut text = self.held.as_slice();
        if self.number == 1 {
            text = text.strip_prefix(BYTE_ORDER_MARK).unwrap_or(text);
        }
        text = text.strip_suffix(b"\r").unwrap_or(text);
        match std::str::from_utf8(text) {
            Ok(text) => Content::Text(text.to_owned()),
            Err(error) => Content::NotUtf8 {
                at: error.valid_up_to() + 1,
            },
        }
    }
}
