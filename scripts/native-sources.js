// Lists the addon's C++ sources for binding.gyp: the same folders CMakeLists.txt globs.
'use strict';
const fs = require('fs');
const path = require('path');

const FOLDERS = ['core', 'book', 'features', 'market', 'log', 'moe', 'student', 'napi'];

function nativeSources(root = path.join(__dirname, '..')) {
  const out = [];
  for (const folder of FOLDERS) {
    const dir = path.join(root, 'native', folder);
    if (!fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).sort()) if (f.endsWith('.cc')) out.push(`native/${folder}/${f}`);
  }
  out.push('native/addon.cc');
  return out;
}

module.exports = { nativeSources, FOLDERS };
if (require.main === module) process.stdout.write(nativeSources().join(' '));
