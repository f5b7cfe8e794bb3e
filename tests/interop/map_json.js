// Preloaded (node -r) before the eHN cose_verify.js, which prints the decoded CWT with
// JSON.stringify: CBOR maps with integer keys decode to JavaScript Map objects, which
// JSON.stringify writes as {}. This writes their entries instead; nothing else changes.
'use strict';
Object.defineProperty(Map.prototype, 'toJSON', {
  value: function toJSON() { return Object.fromEntries(this); },
  configurable: true,
  writable: true,
});
