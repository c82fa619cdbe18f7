/**
 * `feedpub serve` sees every way a file can be saved, and edits of its config file: the real
 * CLI, real file operations (fs calls, `mv`, `sed -i`, `git checkout`), and the feeds read over
 * HTTP. Every wait polls for the expected feed with a deadline; nothing sleeps.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEBOUNCE_MS } from "../../functions/cli/serve.ts";
import {
  makeSite,
  removeSites,
  runCli,
  type Server,
  SITE_CONFIG,
  type Site,
  startServer,
  stopAllServers,
  waitFor,
} from "./cli.ts";

/**
 * How long a change may take to show in the served feed. A rebuild of these sites takes about
 * 0.1 s after the 150 ms debounce; the rest is margin for a machine whose cores are all busy.
 * A change the watcher misses never shows, so it still fails.
 */
const WAIT_MS = 10_000;

interface Item {
  readonly title: string;
  readonly url: string;
  readonly content_html?: string;
}

const article = (title: string, body = "Text.") => `---\ntitle: ${title}\n---\n${body}\n`;

async function feed(server: Server): Promise<{ title: string; items: Item[] }> {
  const res = await fetch(`${server.base}/feeds/feed.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as { title: string; items: Item[] };
}

/** Waits until the served feed has an item titled `present` and none titled `absent`. */
async function shows(server: Server, present: string, absent?: string): Promise<void> {
  await waitFor(
    `"${present}" in the feed${absent ? ` and "${absent}" gone` : ""}`,
    async () => {
      const titles = (await feed(server)).items.map((item) => item.title);
      return titles.includes(present) && (absent === undefined || !titles.includes(absent));
    },
    WAIT_MS,
  );
}

async function gone(server: Server, title: string): Promise<void> {
  await waitFor(
    `"${title}" gone from the feed`,
    async () => !(await feed(server)).items.some((item) => item.title === title),
    WAIT_MS,
  );
}

function run(command: string, args: readonly string[], cwd: string): void {
  execFileSync(command, args, { cwd, stdio: "pipe" });
}

describe("feedpub serve sees every save style", () => {
  let site: Site;
  let server: Server;

  beforeAll(async () => {
    site = await makeSite({ files: { "posts/seed.md": article("Seed") } });
    server = await startServer(
      ["--port", "0", "--content", site.content, "--out", site.out, "--config", site.config],
      { cwd: site.dir },
    );
  });

  afterAll(async () => {
    await stopAllServers();
    await removeSites();
  });

  it("names the landing page in its banner, and serves it there", async () => {
    const base = `http://localhost:${server.port}/feeds/`;
    expect(server.stdout()).toContain(
      `serving ${base} (the landing page) and ${base}rss.xml, atom.xml, feed.json; watching ${site.content} and ${site.config}\n`,
    );
    const res = await fetch(`${server.base}/feeds/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await res.text()).toBe(await readFile(join(site.out, "feeds/index.html"), "utf8"));
  });

  it("an in-place write", async () => {
    const file = join(site.content, "posts/in-place.md");
    await writeFile(file, article("In place v1"));
    await shows(server, "In place v1");
    await writeFile(file, article("In place v2"));
    await shows(server, "In place v2", "In place v1");
  });

  it("a rename over the article (fs.rename of a temp file), then in-place edits and a delete", async () => {
    const file = join(site.content, "posts/renamed.md");
    await writeFile(file, article("Renamed v1"));
    await shows(server, "Renamed v1");
    await writeFile(`${file}.tmp`, article("Renamed v2"));
    await rename(`${file}.tmp`, file);
    await shows(server, "Renamed v2", "Renamed v1");
    // The bug: after one rename-over, plain fs.watch saw none of these.
    for (const version of [3, 4, 5]) {
      await writeFile(file, article(`Renamed v${version}`));
      await shows(server, `Renamed v${version}`, `Renamed v${version - 1}`);
    }
    await rm(file);
    await gone(server, "Renamed v5");
    await writeFile(file, article("Renamed v6"));
    await shows(server, "Renamed v6");
  });

  it("`mv` over the article and `sed -i`, then in-place edits and a delete", async () => {
    const file = join(site.content, "posts/moved-over.md");
    await writeFile(file, article("Mv v1"));
    await shows(server, "Mv v1");
    // From outside the content folder, as an editor's temp folder would be.
    await writeFile(join(site.dir, "draft.md"), article("Mv v2"));
    run("mv", [join(site.dir, "draft.md"), file], site.dir);
    await shows(server, "Mv v2", "Mv v1");
    await writeFile(file, article("Mv v3"));
    await shows(server, "Mv v3", "Mv v2");
    run("sed", ["-i", "s/Mv v3/Mv v4/", file], site.dir);
    await shows(server, "Mv v4", "Mv v3");
    await writeFile(file, article("Mv v5"));
    await shows(server, "Mv v5", "Mv v4");
    await rm(file);
    await gone(server, "Mv v5");
  });

  it("a delete followed at once by a create, and a delete then a later create", async () => {
    const file = join(site.content, "posts/recreated.md");
    await writeFile(file, article("Recreated v1"));
    await shows(server, "Recreated v1");
    await rm(file);
    await writeFile(file, article("Recreated v2"));
    await shows(server, "Recreated v2", "Recreated v1");
    await rm(file);
    await gone(server, "Recreated v2");
    await writeFile(file, article("Recreated v3"));
    await shows(server, "Recreated v3");
    await writeFile(file, article("Recreated v4"));
    await shows(server, "Recreated v4", "Recreated v3");
  });

  it("`git checkout -- file` in a repository around the site, before and after edits", async () => {
    const file = join(site.content, "posts/tracked.md");
    await writeFile(file, article("Tracked v1"));
    const env = ["-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false"];
    run("git", ["init", "-q"], site.dir);
    run("git", ["add", "content/posts/tracked.md"], site.dir);
    run("git", [...env, "commit", "-q", "-m", "first"], site.dir);
    await shows(server, "Tracked v1");
    await writeFile(file, article("Tracked v2"));
    await shows(server, "Tracked v2", "Tracked v1");
    run("git", ["checkout", "--", "content/posts/tracked.md"], site.dir);
    await shows(server, "Tracked v1", "Tracked v2");
    await writeFile(file, article("Tracked v3"));
    await shows(server, "Tracked v3", "Tracked v1");
    await rm(file);
    await gone(server, "Tracked v3");
    run("git", ["checkout", "--", "content/posts/tracked.md"], site.dir);
    await shows(server, "Tracked v1");
  });

  it("a new folder (several levels) with an article, then an edit in it", async () => {
    const folder = join(site.content, "fresh/deeper/still");
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, "new.md"), article("In a new folder"));
    await shows(server, "In a new folder");
    await writeFile(join(folder, "new.md"), article("In a new folder, edited"));
    await shows(server, "In a new folder, edited", "In a new folder");
    await writeFile(join(folder, "second.md"), article("Second in the new folder"));
    await shows(server, "Second in the new folder");
  });

  it("a folder moved (`mv dir newdir`), then edits, a new file and a delete inside it", async () => {
    await mkdir(join(site.content, "moving/inner"), { recursive: true });
    await writeFile(join(site.content, "moving/inner/one.md"), article("Moving one"));
    const urlOf = async (title: string) => (await feed(server)).items.find((i) => i.title === title)?.url;
    await waitFor(
      "the article at its first path",
      async () => /\/moving\/inner\/one\/$/.test((await urlOf("Moving one")) ?? ""),
      WAIT_MS,
    );
    run("mv", ["moving", "moved"], site.content);
    // Its link follows its path.
    await waitFor(
      "the article at its new path",
      async () => /\/moved\/inner\/one\/$/.test((await urlOf("Moving one")) ?? ""),
      WAIT_MS,
    );
    const moved = join(site.content, "moved/inner");
    await writeFile(join(moved, "one.md"), article("Moving one, edited"));
    await shows(server, "Moving one, edited", "Moving one");
    await writeFile(join(moved, "two.md"), article("Moving two"));
    await shows(server, "Moving two");
    await rm(join(moved, "one.md"));
    await gone(server, "Moving one, edited");
    expect(server.stderr()).toBe("");
  });

  it("a burst of 1,000 new files makes one rebuild (or very few), not 1,000", async () => {
    const before = server.stdout().length;
    const since = () => server.stdout().slice(before);
    const rebuildsSince = () => since().match(/^rebuilt in \d+ ms$/gm)?.length ?? 0;
    const counts = [...server.stdout().matchAll(/^published \d+ of (\d+) articles/gm)];
    const total = Number(counts.at(-1)?.[1]) + 1000;
    const folder = join(site.content, "burst");
    await mkdir(folder);
    // As fast as a checkout writes them: many more changes than debounce periods.
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => writeFile(join(folder, `item-${i}.md`), article(`Burst ${i}`))),
    );
    const rebuiltWith = (count: number) =>
      new RegExp(`^published \\d+ of ${count} articles.*\\nrebuilt in \\d+ ms$`, "m");
    const MAX = 3;
    await waitFor(
      `a rebuild of all ${total} articles (or too many rebuilds)`,
      () => rebuiltWith(total).test(since()) || rebuildsSince() > MAX,
      60_000,
    );
    expect(rebuildsSince(), since()).toBeLessThanOrEqual(MAX);
    // One article more, saved after the burst was published, then one debounce period: any
    // rebuilds the burst still had queued would be printed by then (on a slower machine, fewer
    // would be, never more), so the rebuilds counted are the burst's and this article's.
    await writeFile(join(site.content, "after-burst.md"), article("After the burst"));
    await waitFor(
      "the article saved after the burst (or too many rebuilds)",
      () => rebuiltWith(total + 1).test(since()) || rebuildsSince() > MAX + 1,
      60_000,
    );
    await new Promise((done) => setTimeout(done, DEBOUNCE_MS));
    const burst = rebuildsSince() - 1;
    // Printed so that the report can quote it; usually 1.
    console.log(`1,000-file burst: ${burst} rebuild(s)`);
    expect(burst, since()).toBeGreaterThanOrEqual(1);
    expect(burst, since()).toBeLessThanOrEqual(MAX);
    // The newest itemLimit (50) articles are from the burst (and the one after), seen after the rest.
    const titles = (await feed(server)).items.map((item) => item.title);
    expect(titles.filter((title) => title.startsWith("Burst ")).length).toBe(49);
    expect(titles).toContain("After the burst");
  }, 150_000);
});

describe("feedpub serve reloads its config file", () => {
  let site: Site;
  let server: Server;

  beforeAll(async () => {
    site = await makeSite({ files: { "posts/one.md": article("One") } });
    server = await startServer(
      ["--port", "0", "--content", site.content, "--out", site.out, "--config", site.config],
      { cwd: site.dir },
    );
  });

  afterAll(async () => {
    await stopAllServers();
    await removeSites();
  });

  const etagOf = async () =>
    (await fetch(`${server.base}/feeds/feed.json`, { method: "HEAD" })).headers.get("etag");
  const notRebuilt = "feedpub: not rebuilt; still serving the feeds built with the last good settings";

  it("a new title shows in the served feeds", async () => {
    await writeFile(site.config, SITE_CONFIG.replace("title: E2E Test Site", "title: Renamed Site"));
    await waitFor("the new title", async () => (await feed(server)).title === "Renamed Site", WAIT_MS);
    expect(server.stdout()).toContain(`settings reloaded from ${site.config}\n`);
    const rss = await (await fetch(`${server.base}/feeds/rss.xml`)).text();
    expect(rss).toContain("<title>Renamed Site</title>");
  });

  it("a broken value prints the field and the reason, as build does, and the last good feeds stay", async () => {
    const etag = await etagOf();
    const broken = SITE_CONFIG.replace("title: E2E Test Site", "title: Broken Site").replace(
      "itemLimit: 50",
      "itemLimit: lots",
    );
    await writeFile(site.config, broken);
    const expected = `${site.config}: invalid configuration\n  - itemLimit: must be a whole number from 1 to 1000, got "lots"\n`;
    await waitFor("the config error", () => server.stderr().includes(`${expected}${notRebuilt}`), WAIT_MS);
    // The same message `feedpub build` gives for that file.
    const built = await runCli(
      ["build", "--content", site.content, "--out", join(site.dir, "other"), "--config", site.config],
      { cwd: site.dir },
    );
    expect(built.stderr).toBe(expected);
    expect(built.code).toBe(2);

    // An article saved meanwhile is not published with broken settings: the error is repeated.
    await writeFile(join(site.content, "posts/while-broken.md"), article("While broken"));
    await waitFor("the error again", () => server.stderr().split(notRebuilt).length === 3, WAIT_MS);
    expect(await etagOf()).toBe(etag);
    const served = await feed(server);
    expect(served.title).toBe("Renamed Site");
    expect(served.items.map((i) => i.title)).toEqual(["One"]);
  });

  it("fixing it (saved by rename, as sed -i does) rebuilds with the fixed settings", async () => {
    const printed = server.stdout().length;
    run("sed", ["-i", "s/itemLimit: lots/itemLimit: 50/", site.config], site.dir);
    await waitFor("the fixed title", async () => (await feed(server)).title === "Broken Site", WAIT_MS);
    await shows(server, "While broken");
    expect(server.stdout().slice(printed)).toContain(`settings reloaded from ${site.config}\n`);
  });

  it("a deleted config file is reported, and its re-creation rebuilds", async () => {
    const etag = await etagOf();
    const errors = server.stderr().length;
    await rm(site.config);
    const missing = `${site.config}: invalid configuration\n  - not found; create it (see README, "Site settings") or pass --config FILE\n${notRebuilt}`;
    await waitFor(
      "the missing config reported",
      () => server.stderr().slice(errors).includes(missing),
      WAIT_MS,
    );
    expect(await etagOf()).toBe(etag);
    await writeFile(site.config, SITE_CONFIG.replace("title: E2E Test Site", "title: Back Again"));
    await waitFor(
      "the re-created config's title",
      async () => (await feed(server)).title === "Back Again",
      WAIT_MS,
    );
  });
});
