#!/usr/bin/env node
// The bundled CLI lives in dist/cli-bundle/ (npm run build); this shim keeps the bin path stable.
import '../dist/cli-bundle/main.js';
