#!/usr/bin/env node
// Launcher kept in git with its executable bit, so `npx medbridge` works right after
// `npm ci` + build, whatever mode the compiled file gets.
'use strict';
const { main } = require('../dist/cli/main.js');
main(process.argv).then((code) => {
  process.exitCode = code;
});
