//! `tracing` events through the same logger: same layout, same redaction, same destination.
//!
//! Span fields become context (outermost span first, inner spans and then the event's own fields
//! winning on repeated keys); the event's `message` becomes `msg`; a field recorded as an error
//! becomes `err` with its cause chain. Levels map one to one (`TRACE` → 10 … `ERROR` → 50). The
//! layer does not filter for other layers: records below the logger's threshold are skipped here
//! only.

use serde_json::Value as Json;
use tracing_core::field::{Field as TracingField, Visit};
use tracing_core::span::{Attributes, Id, Record as SpanRecord};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context as LayerContext, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::record::Record;
use super::{ErrorRecord, Field, Level, Logger, Value};

/// A `tracing_subscriber` layer writing every event through a [`Logger`].
#[derive(Clone, Debug)]
pub struct TracingLayer {
    logger: Logger,
}

impl TracingLayer {
    /// A layer writing through `logger` (its context, threshold and destination).
    pub fn new(logger: Logger) -> Self {
        TracingLayer { logger }
    }
}

/// A span's fields, kept in the span's extensions.
struct SpanFields(Vec<(String, Json)>);

#[derive(Default)]
struct Collected {
    fields: Vec<(String, Json)>,
    message: Option<String>,
    error: Option<ErrorRecord>,
}

impl Collected {
    fn put(&mut self, field: &TracingField, value: Json) {
        let name = field.name();
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(entry) => entry.1 = value,
            None => self.fields.push((name.to_owned(), value)),
        }
    }
}

impl Visit for Collected {
    fn record_debug(&mut self, field: &TracingField, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.put(field, Json::String(text));
        }
    }
    fn record_str(&mut self, field: &TracingField, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.put(field, Json::from(value));
        }
    }
    fn record_i64(&mut self, field: &TracingField, value: i64) {
        self.put(field, Json::from(value));
    }
    fn record_u64(&mut self, field: &TracingField, value: u64) {
        self.put(field, Json::from(value));
    }
    fn record_f64(&mut self, field: &TracingField, value: f64) {
        self.put(field, Json::from(value));
    }
    fn record_bool(&mut self, field: &TracingField, value: bool) {
        self.put(field, Json::from(value));
    }
    fn record_error(&mut self, field: &TracingField, value: &(dyn std::error::Error + 'static)) {
        if self.error.is_none() {
            self.error = Some(ErrorRecord::from_dyn(value));
        } else {
            self.put(field, Json::String(value.to_string()));
        }
    }
}

fn level_of(level: &tracing_core::Level) -> Level {
    match *level {
        tracing_core::Level::TRACE => Level::Trace,
        tracing_core::Level::DEBUG => Level::Debug,
        tracing_core::Level::INFO => Level::Info,
        tracing_core::Level::WARN => Level::Warn,
        tracing_core::Level::ERROR => Level::Error,
    }
}

impl<S> Layer<S> for TracingLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: LayerContext<'_, S>) {
        let mut collected = Collected::default();
        attrs.record(&mut collected);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(collected.fields));
        }
    }

    fn on_record(&self, id: &Id, values: &SpanRecord<'_>, ctx: LayerContext<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            let mut collected = Collected {
                fields: std::mem::take(fields),
                ..Collected::default()
            };
            values.record(&mut collected);
            *fields = collected.fields;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: LayerContext<'_, S>) {
        let level = level_of(event.metadata().level());
        if !self.logger.enabled(level) {
            return;
        }
        let mut span_fields: Vec<(String, Json)> = Vec::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(fields)) = span.extensions().get::<SpanFields>() {
                    span_fields.extend(fields.iter().cloned());
                }
            }
        }
        let mut collected = Collected::default();
        event.record(&mut collected);
        let fields: Vec<Field<'_>> = span_fields
            .iter()
            .chain(&collected.fields)
            .map(|(k, v)| (k.as_str(), Value::Json(v)))
            .collect();
        self.logger.emit(&Record {
            level,
            fields: &fields,
            err: collected.error.as_ref(),
            msg: collected.message.as_deref(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::tests::capturing;
    use tracing_subscriber::layer::SubscriberExt;

    #[test]
    fn events_carry_span_fields_as_context_and_are_redacted() {
        let (logger, out) =
            capturing(Logger::builder().threshold(crate::log::Threshold::At(Level::Debug)));
        let subscriber = tracing_subscriber::registry().with(TracingLayer::new(logger));
        tracing::subscriber::with_default(subscriber, || {
            let outer = tracing::info_span!("run", workflow = "spec-to-code", step = 1);
            let _o = outer.enter();
            let inner = tracing::info_span!("call", step = 2, api_key = "sk-x");
            let _i = inner.enter();
            tracing::debug!(
                tokens = 12u64,
                password = "hunter2",
                "called Bearer abcdefgh12345678"
            );
            tracing::trace!("below the threshold");
            let err = std::io::Error::other("refused");
            tracing::error!(error = &err as &(dyn std::error::Error + 'static), "failed");
        });
        let lines = out.lines();
        assert_eq!(lines.len(), 2, "{lines:?}");
        let first: Json = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(first["level"], 20);
        assert_eq!(first["workflow"], "spec-to-code");
        assert_eq!(first["step"], 2);
        assert_eq!(first["tokens"], 12);
        assert_eq!(first["msg"], "called Bearer [REDACTED]");
        assert!(!lines[0].contains("hunter2") && !lines[0].contains("sk-x"));
        let second: Json = serde_json::from_str(&lines[1]).unwrap();
        assert_eq!(second["level"], 50);
        assert_eq!(second["err"]["message"], "refused");
        assert_eq!(second["msg"], "failed");
    }
}
