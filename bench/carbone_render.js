// Carbone renders and converts one template COUNT times with FACTORIES LibreOffice processes.
// Called by bench/carbone.py: node carbone_render.js CARBONE_DIR TEMPLATE DATA FACTORIES COUNT OUT
// Prints one JSON line: {"seconds": …, "docs": …, "profiles": [...]} (profiles: LibreOffice
// user folders, so that the caller can remove the sockets a killed LibreOffice leaves in /tmp).
'use strict';
const fs = require('fs');
const path = require('path');

const [carboneDir, template, dataFile, factoriesArg, countArg, outPdf] = process.argv.slice(2);
const carbone = require(path.join(carboneDir, 'node_modules', 'carbone'));
const factories = Number(factoriesArg);
const count = Number(countArg);
const data = JSON.parse(fs.readFileSync(dataFile, 'utf8'));
const options = { convertTo: 'pdf' };

carbone.set({
  factories: factories,
  startFactory: true,
  // A unique pipe prefix per run: our LibreOffice processes and no one else's.
  pipeNamePrefix: '_docgenbench' + process.pid,
});

function renderOne () {
  return new Promise((resolve, reject) => {
    carbone.render(template, data, options, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function profiles () {
  const tmp = require('os').tmpdir();
  return fs.readdirSync(tmp).filter((n) => n.startsWith('_office_')).map((n) => path.join(tmp, n));
}

async function main () {
  // Warm-up: every factory started and has converted once (not counted).
  const first = await Promise.all(Array.from({ length: 2 * factories }, renderOne));
  fs.writeFileSync(outPdf, first[0]);
  const started = process.hrtime.bigint();
  // Every document asked for at once: Carbone queues them and hands each to a free factory.
  const results = await Promise.all(Array.from({ length: count }, renderOne));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const pdf of results) {
    if (pdf.slice(0, 4).toString() !== '%PDF') {
      throw new Error('carbone gave no PDF');
    }
  }
  const used = profiles();
  console.log(JSON.stringify({ seconds: seconds, docs: count, profiles: used }));
  process.exit(0); // Carbone's exit handler kills its LibreOffice processes
}

main().catch((err) => {
  console.error(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
