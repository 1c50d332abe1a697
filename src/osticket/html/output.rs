//! The text a message becomes, kept tidy as it is written and never longer than its limit.
//!
//! Lines are trimmed at the end and blank lines folded (one blank line at most, none at either
//! end) as each line is left rather than once at the end, so the buffer holds what will be
//! returned and nothing that would be thrown away. That is what makes the limit exact: text
//! once written past a line's trailing whitespace is never taken back, so the moment it would
//! pass the limit the whole message is known to be too long, and conversion stops.

/// The text so far and the current line's state.
pub(super) struct Output {
    text: String,
    max: usize,
    /// A line has been started; until then nothing has been written.
    line_open: bool,
    /// Where the current line's separator from the line before starts.
    sep_start: usize,
    /// The current line has something besides whitespace.
    ink: bool,
    /// Bytes of whitespace at the end of the current line, dropped if nothing follows them.
    ws_tail: usize,
    /// Whitespace too long to keep ended the current line: any text after it passes the limit.
    tail_over: bool,
    /// A blank line was dropped since the last line with text.
    blank: bool,
    /// Where the open link's text starts: kept here, as only this type moves text back.
    mark: Option<usize>,
    full: bool,
}

impl Output {
    pub(super) fn new(max: usize) -> Self {
        Output {
            text: String::new(),
            max,
            line_open: false,
            sep_start: 0,
            ink: false,
            ws_tail: 0,
            tail_over: false,
            blank: false,
            mark: None,
            full: false,
        }
    }

    pub(super) fn max(&self) -> usize {
        self.max
    }

    /// The text has passed the limit: nothing more is written.
    pub(super) fn is_full(&self) -> bool {
        self.full
    }

    pub(super) fn has_line(&self) -> bool {
        self.line_open
    }

    /// Gives up: what was left to write could not fit.
    pub(super) fn overflow(&mut self) {
        self.full = true;
    }

    /// Ends the current line and starts the next, `breaks` newlines after the last line with
    /// text (2 leaves a blank line).
    pub(super) fn start_line(&mut self, breaks: u8) {
        self.end_line();
        self.sep_start = self.text.len();
        if !self.text.is_empty() {
            self.text.push_str(if breaks >= 2 || self.blank {
                "\n\n"
            } else {
                "\n"
            });
        }
        self.line_open = true;
        (self.ink, self.ws_tail, self.tail_over) = (false, 0, false);
    }

    /// Trims the current line's end, or drops the line with its separator if it is blank.
    fn end_line(&mut self) {
        if !self.line_open {
            return;
        }
        if self.ink {
            self.truncate(self.text.len() - self.ws_tail);
            self.blank = false;
        } else {
            self.truncate(self.sep_start);
            self.blank = !self.text.is_empty();
        }
        self.line_open = false;
    }

    fn truncate(&mut self, len: usize) {
        self.text.truncate(len);
        if let Some(m) = &mut self.mark {
            *m = (*m).min(len);
        }
    }

    /// Appends `s` to the current line; sets [`Output::is_full`] instead if the text would pass
    /// the limit.
    pub(super) fn push(&mut self, s: &str) {
        if self.full || s.is_empty() {
            return;
        }
        let kept = s.trim_end();
        if !kept.is_empty() {
            // The whitespace before it is no longer at the line's end: it counts now.
            if self.tail_over || self.text.len() + kept.len() > self.max {
                self.full = true;
                return;
            }
            self.text.push_str(kept);
            (self.ink, self.ws_tail) = (true, 0);
        }
        let tail = &s[kept.len()..];
        if tail.is_empty() || self.tail_over {
            return;
        }
        // Kept only while text after it could still fit; past that it is trimmed away or the
        // limit is passed, so it need not be held.
        if self.text.len() + tail.len() < self.max {
            self.text.push_str(tail);
            self.ws_tail += tail.len();
        } else {
            self.tail_over = true;
        }
    }

    pub(super) fn set_mark(&mut self) {
        self.mark = Some(self.text.len());
    }

    /// The text written since [`Output::set_mark`], forgetting the mark.
    pub(super) fn take_marked(&mut self) -> Option<&str> {
        let at = self.mark.take()?;
        self.text.get(at..)
    }

    /// The text, or `None` if it passed the limit.
    pub(super) fn finish(mut self) -> Option<String> {
        self.end_line();
        (!self.full).then_some(self.text)
    }

    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.text.capacity()
    }
}
