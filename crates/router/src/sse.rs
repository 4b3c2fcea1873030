//! An incremental Server-Sent Events decoder over byte chunks, without copying payloads
//! that arrive in one piece.

use bytes::{Bytes, BytesMut};

/// One event: its `event:` name, if any, and its `data:` lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: Bytes,
}

/// The largest event the decoder buffers before giving up on the stream.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// Feeds on byte chunks and yields whole events.
#[derive(Debug, Default)]
pub struct SseDecoder {
    buffer: BytesMut,
}

/// The upstream sent an event larger than [`MAX_EVENT_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTooLarge;

impl SseDecoder {
    /// Adds a chunk and appends every event it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), EventTooLarge> {
        self.buffer.extend_from_slice(chunk);
        while let Some((end, separator)) = find_event_end(&self.buffer) {
            let block = self.buffer.split_to(end + separator).freeze();
            if let Some(event) = parse_block(block.slice(..end)) {
                out.push(event);
            }
        }
        if self.buffer.len() > MAX_EVENT_BYTES {
            return Err(EventTooLarge);
        }
        Ok(())
    }

    /// Whether bytes of an unfinished event remain (other than blank lines).
    pub fn has_partial_event(&self) -> bool {
        self.buffer.iter().any(|byte| !byte.is_ascii_whitespace())
    }
}

/// The end of the first event in `buffer` and the length of the blank line after it.
fn find_event_end(buffer: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(offset) = memchr::memchr(b'\n', &buffer[from..]) {
        let newline = from + offset;
        let rest = &buffer[newline + 1..];
        if rest.first() == Some(&b'\n') {
            return Some((newline, 2));
        }
        if rest.starts_with(b"\r\n") {
            return Some((newline, 3));
        }
        from = newline + 1;
    }
    None
}

fn parse_block(block: Bytes) -> Option<SseEvent> {
    let mut event = None;
    let mut data: Option<Bytes> = None;
    let mut joined: Option<Vec<u8>> = None;
    let mut start = 0;
    while start < block.len() {
        let end =
            memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |offset| start + offset);
        let mut line = &block[start..end];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(0) => ("", &line[..0]), // a comment
            Some(colon) => {
                let value = &line[colon + 1..];
                (
                    std::str::from_utf8(&line[..colon]).unwrap_or(""),
                    value.strip_prefix(b" ").unwrap_or(value),
                )
            }
            None => (std::str::from_utf8(line).unwrap_or(""), &line[..0]),
        };
        match field {
            "data" => match (&mut joined, &data) {
                (Some(all), _) => {
                    all.push(b'\n');
                    all.extend_from_slice(value);
                }
                (None, Some(first)) => {
                    let mut all = first.to_vec();
                    all.push(b'\n');
                    all.extend_from_slice(value);
                    joined = Some(all);
                }
                (None, None) => {
                    let offset = value.as_ptr() as usize - block.as_ptr() as usize;
                    data = Some(block.slice(offset..offset + value.len()));
                }
            },
            "event" => event = Some(String::from_utf8_lossy(value).into_owned()),
            _ => {}
        }
        start = end + 1;
    }
    let data = joined.map(Bytes::from).or(data);
    if data.is_none() && event.is_none() {
        return None;
    }
    Some(SseEvent { event, data: data.unwrap_or_default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&str]) -> Vec<(Option<String>, String)> {
        let mut decoder = SseDecoder::default();
        let mut events = Vec::new();
        for chunk in chunks {
            decoder.feed(chunk.as_bytes(), &mut events).expect("fits");
        }
        events
            .into_iter()
            .map(|e| (e.event, String::from_utf8(e.data.to_vec()).expect("utf-8")))
            .collect()
    }

    #[test]
    fn events_split_anywhere_decode_the_same() {
        let whole = "event: message_start\ndata: {\"a\":1}\n\n: keep-alive\n\ndata: one\ndata: two\n\ndata: [DONE]\n\n";
        let expected = vec![
            (Some("message_start".to_owned()), "{\"a\":1}".to_owned()),
            (None, "one\ntwo".to_owned()),
            (None, "[DONE]".to_owned()),
        ];
        assert_eq!(decode(&[whole]), expected);
        for split in 1..whole.len() {
            assert_eq!(decode(&[&whole[..split], &whole[split..]]), expected, "split at {split}");
        }
    }

    #[test]
    fn crlf_line_ends_are_accepted() {
        assert_eq!(
            decode(&["data: x\r\n\r\ndata:y\r\n\r\n"]),
            vec![(None, "x".into()), (None, "y".into())]
        );
    }

    #[test]
    fn an_unfinished_event_is_reported_and_a_huge_one_refused() {
        let mut decoder = SseDecoder::default();
        let mut events = Vec::new();
        decoder.feed(b"data: partial", &mut events).expect("fits");
        assert!(events.is_empty());
        assert!(decoder.has_partial_event());
        let huge = vec![b'x'; MAX_EVENT_BYTES + 1];
        assert_eq!(decoder.feed(&huge, &mut events), Err(EventTooLarge));
    }
}
