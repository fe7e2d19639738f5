// Helpers for Warden's browser tests: start the warden binary's subcommands as child processes,
// read the address they print, and launch Debian's Chromium through playwright-core (never a
// downloaded browser build).
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const e2eDir = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(e2eDir, "..");
export const outDir = path.join(e2eDir, "out");

// The fixtures live in shared/ beside the repository, both on a developer's machine and in CI.
export const fixturesDir = process.env.WARDEN_FIXTURES ||
  path.resolve(repoRoot, "..", "shared", "fixtures", "atlassian");

export const wardenBin = process.env.WARDEN_BIN || path.join(repoRoot, "build", "warden");

// The flags the desktop recipe verified for headless Chromium in a container.
export const chromiumArgs = [
  "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
];

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

// start runs the warden binary and resolves once a stdout line matches pattern, with the match.
// Output is kept so a failing test can show what the process said.
export function start(args, pattern, { timeoutMs = 60000, env = {} } = {}) {
  const proc = spawn(wardenBin, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log = [];
  const keep = (stream, tag) => createInterface({ input: stream }).on("line", (line) => {
    log.push(tag + line);
    if (log.length > 400) { log.shift(); }
  });
  keep(proc.stderr, "stderr: ");

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`warden ${args.join(" ")} printed no ${pattern} in ${timeoutMs} ms:\n` +
        log.join("\n")));
    }, timeoutMs);
    createInterface({ input: proc.stdout }).on("line", (line) => {
      log.push("stdout: " + line);
      const m = line.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`warden ${args.join(" ")} exited (${code ?? signal}) before ready:\n` +
        log.join("\n")));
    });
    proc.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return { proc, ready, log };
}

// stop ends a child process started by start and waits for it to exit.
export async function stop(child) {
  if (!child || child.proc.exitCode !== null || child.proc.signalCode !== null) { return; }
  const exited = new Promise((resolve) => child.proc.once("exit", resolve));
  child.proc.kill("SIGTERM");
  const timer = setTimeout(() => child.proc.kill("SIGKILL"), 10000);
  await exited;
  clearTimeout(timer);
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: chromiumArgs,
  });
}

// shot saves a full-window screenshot under e2e/out for a person to look at.
export async function shot(page, name) {
  fs.mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, name + ".png") });
}

// isoDateIn returns YYYY-MM-DD, months ahead of today.
export function isoDateIn(months) {
  const d = new Date();
  d.setMonth(d.getMonth() + months);
  return d.toISOString().slice(0, 10);
}

// closedPort returns a loopback port that nothing listens on (it was free a moment ago), for
// tests of "the server cannot be reached".
export async function closedPort() {
  const srv = net.createServer();
  await new Promise((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// startDemo runs `warden --demo serve` on a fresh data directory and resolves with its URL.
export async function startDemo(prefix = "warden-e2e-demo-") {
  const child = start(["--demo", "--data-dir", tempDir(prefix), "serve", "--addr",
    "127.0.0.1:0"], /(http:\/\/127\.0\.0\.1:\d+\/\S*)/);
  const [, url] = await child.ready;
  return { child, url };
}
