// Package charts draws the run page's charts on the server, as inline SVG.
//
// The charts are rendered here rather than in the browser so the run page
// works without JavaScript, prints as it looks, and shows exactly the numbers
// the memo was written from. Each chart carries a text alternative and the
// same numbers as a table, because a picture of numbers is not accessible on
// its own and people want to copy the figures.
//
// Drawing uses gonum.org/v1/plot with its SVG canvas (vg/vgsvg). Its output
// is post-processed so it can be pasted into an HTML page as is: the XML
// declaration and generator comment are dropped, the unused xlink namespace
// is removed, the root element gets a role and label for screen readers, and
// the font family falls back to metric-compatible system fonts, because the
// Liberation fonts gonum measures text with are compiled into the binary but
// not embedded in the SVG (that would add hundreds of kilobytes per chart).
// All text goes through vgsvg, which HTML-escapes it; nothing here emits
// scripts, event attributes, images or links.
//
// Output is deterministic: the same Result and scores give byte-identical
// SVG, so pages can be cached and the charts kept as golden files in tests.
package charts
