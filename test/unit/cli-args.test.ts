import { describe, expect, it } from "vitest";
import { commandsOf, editDistance, nearest } from "../../functions/cli/args.ts";
import { ATOM_XSL, displayDate, RSS_XSL } from "../../functions/core/render/browser.ts";

describe("the command line's parts", () => {
  it("reads each command's options from its synopsis line in the usage text", () => {
    const usage =
      "tool\n\nUsage:\n  feedpub a [--x DIR] [--y]\n      About a, --z is not its.\n  feedpub b --y\n";
    const commands = commandsOf(usage);

    expect([...commands.keys()]).toEqual(["a", "b"]);
    expect(commands.get("a")?.options).toEqual(["x", "y", "help"]);
    expect(commands.get("a")?.usage).toBe(
      "Usage:\n  feedpub a [--x DIR] [--y]\n      About a, --z is not its.\n",
    );
    expect(commands.get("b")?.options).toEqual(["y", "help"]);
  });

  it("counts a swap of neighbours as one edit and suggests only near misses", () => {
    expect(editDistance("biuld", "build")).toBe(1);
    expect(editDistance("forse", "force")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(nearest("biuld", ["build", "check"])).toBe("build");
    expect(nearest("Chekc", ["build", "check"])).toBe("check");
    expect(nearest("cont", ["out", "content", "config"])).toBe("content");
    expect(nearest("co", ["content", "config"])).toBeUndefined();
    expect(nearest("frobnicate", ["build", "check"])).toBeUndefined();
    expect(nearest("x", ["out"])).toBeUndefined();
  });
});

describe("dates on the browser pages", () => {
  it("are the UTC day in words, as the stylesheets' shared date template writes them", () => {
    expect(displayDate(new Date("2024-03-01T23:30:00-05:00"))).toBe("2 March 2024");
    expect(displayDate(new Date("2024-12-31T00:00:00Z"))).toBe("31 December 2024");
    // Both stylesheets call the one template; neither prints a raw date any more.
    for (const xsl of [RSS_XSL, ATOM_XSL]) {
      expect(xsl).toContain('<xsl:template name="date">');
      expect(xsl).toContain('<xsl:call-template name="date">');
      expect(xsl).toContain("|01=January|02=February|03=March|");
      expect(xsl).not.toMatch(/<xsl:value-of select="(pubDate|substring\(atom:published, 1, 10\))"\/>/);
    }
    expect(RSS_XSL).toContain("|Jan=01|Feb=02|");
  });
});
