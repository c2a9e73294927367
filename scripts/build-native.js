// Builds the native addon: cmake-js when cmake is on the PATH, node-gyp otherwise. Builds offline
// against the Node headers installed beside the running node (no header download).
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const env = { ...process.env };
const localHeaders = path.resolve(path.dirname(process.execPath), '..');
if (!env.npm_config_nodedir && fs.existsSync(path.join(localHeaders, 'include', 'node', 'node.h'))) {
  env.npm_config_nodedir = localHeaders;
}
const debug = process.argv.includes('--debug');

function run(cmd, args) {
  console.error(`[build-native] ${cmd} ${args.join(' ')}`);
  return spawnSync(cmd, args, { cwd: root, env, stdio: 'inherit' }).status === 0;
}

const hasCmake = spawnSync('cmake', ['--version'], { stdio: 'ignore' }).status === 0;
const useGyp = process.argv.includes('--gyp') || !hasCmake;
let ok;
if (useGyp) {
  const gyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [path.dirname(process.execPath) + '/../lib/node_modules/npm'] });
  ok = run(process.execPath, [gyp, 'rebuild', ...(debug ? ['--debug'] : []), ...(env.npm_config_nodedir ? [`--nodedir=${env.npm_config_nodedir}`] : [])]);
} else {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  ok = run(process.execPath, [cmakeJs, 'compile', '--log-level', 'warn', '-p', '2', ...(debug ? ['--debug'] : [])]);
}
if (!ok) {
  console.error('[build-native] native build failed: install cmake and g++ (apt-get install cmake g++) and run `npm run build:native`');
  process.exit(1);
}
