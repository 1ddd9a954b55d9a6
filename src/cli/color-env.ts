/**
 * @module Imported first by main.ts, before anything loads citty: citty decides once, when its module
 * is evaluated, whether to colour help and errors, and it reads only NO_COLOR=1. So the decision is
 * made here: no colour into a pipe or file, and none when NO_COLOR is set to any value (no-color.org).
 */
if (process.env.NO_COLOR !== undefined || !process.stdout.isTTY || !process.stderr.isTTY) process.env.NO_COLOR = '1'
