//! An in-memory destination, for tests and for showing records before they go anywhere.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// A writer that keeps everything written to it; clones share the same bytes.
///
/// ```
/// use codemachine_telemetry::{Destination, FormatChoice, Logger, MemoryWriter};
///
/// let memory = MemoryWriter::default();
/// let log = Logger::builder()
///     .format(FormatChoice::Json)
///     .destination(Destination::Writer(Box::new(memory.clone())))
///     .build();
/// log.info("kept in memory");
/// assert!(memory.text().ends_with("\"msg\":\"kept in memory\"}\n"));
/// ```
#[derive(Clone, Default)]
pub struct MemoryWriter(Arc<Mutex<Vec<u8>>>);

impl MemoryWriter {
    /// A copy of everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    /// The lines written so far.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }
}

impl Write for MemoryWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl std::fmt::Debug for MemoryWriter {
    /// Shows the size only: the content may be anything a program logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = self.0.lock().map_or(0, |b| b.len());
        write!(f, "MemoryWriter({len} bytes)")
    }
}
