// Build-time stand-in for `sharp` (image processing). transformers.js requires it at
// load time for its image utilities, which DCD Studio never uses; aliasing it here
// keeps a 20 MB native module out of the VSIX. Any image call fails loudly.
'use strict';
function sharp() {
  throw new Error('Image processing is not available in DCD Studio (the sharp module is not bundled).');
}
module.exports = sharp;
module.exports.default = sharp;
