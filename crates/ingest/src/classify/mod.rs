//! The one URL → action classifier. (Stub: being implemented.)

use confwatch_event::Event;

/// Fills `action`, `outcome`, `object`, `search_query` and `rest` of a web-request event
/// from its `method`, `url` and `status`.
pub fn classify_into(_ev: &mut Event) {}
