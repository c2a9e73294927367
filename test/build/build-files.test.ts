// CMakeLists.txt (cmake-js) and binding.gyp (node-gyp) must build the same sources with the same
// defines and optimisation flags; this test reads both and compares.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { nativeSources, FOLDERS } = require(path.join(ROOT, 'scripts', 'native-sources.js'));

const cmake = fs.readFileSync(path.join(ROOT, 'CMakeLists.txt'), 'utf8');
const gyp = JSON.parse(fs.readFileSync(path.join(ROOT, 'binding.gyp'), 'utf8'));
const target = gyp.targets[0];

test('both build files compile the same source folders', () => {
  const glob = /file\(GLOB CMM_SOURCES CONFIGURE_DEPENDS([^)]*)\)/.exec(cmake);
  assert.ok(glob, 'CMakeLists.txt has the CMM_SOURCES glob');
  const cmakeFolders = glob[1].split(/\s+/).filter((s) => s.endsWith('/*.cc')).map((s) => s.split('/')[1]).sort();
  assert.deepEqual(cmakeFolders, [...FOLDERS].sort());
  assert.match(glob[1], /native\/addon\.cc/);
  const sources: string[] = nativeSources(ROOT);
  assert.ok(sources.includes('native/addon.cc'));
  assert.ok(sources.length > 3, 'sources found');
  assert.deepEqual(target.sources, ['<!@(node scripts/native-sources.js)']);
});

test('both build files use the same defines and optimisation flags', () => {
  const defs = /target_compile_definitions\([^)]*PRIVATE([^)]*)\)/.exec(cmake)![1].trim().split(/\s+/);
  assert.deepEqual([...defs].sort(), [...target.defines].sort());
  const opts = /target_compile_options\([^)]*PRIVATE([^)]*)\)/.exec(cmake)![1].trim().split(/\s+/);
  const gypFlags = (target.cflags_cc as string[]).filter((f) => !f.startsWith('-std='));
  assert.deepEqual([...opts].sort(), [...gypFlags].sort());
  assert.match(cmake, /CMAKE_CXX_STANDARD 17/);
  assert.ok((target.cflags_cc as string[]).includes('-std=c++17'));
});

test('the addon that was built loads', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { native } = require('../../src/native');
  assert.equal(native().eventSize, 64);
});
