package org.jgpt.train.corpus;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.select.NodeVisitor;

/**
 * The main text of an HTML page, as WebText took it: the page is parsed by jsoup (charset from the HTTP header, the
 * page's meta tag or its byte-order mark), boilerplate is removed (navigation, headers, footers, asides, scripts,
 * styles, forms), and the text of what is left, within {@code <main>} or {@code <article>} when the page has one, is
 * kept one block (paragraph, heading, list item) a line.
 */
public final class HtmlText {
    private static final String BOILERPLATE = "nav, header, footer, aside, script, style, noscript, template, form, "
            + "button, select, textarea, iframe, svg, canvas, [role=navigation], [role=banner], [role=contentinfo], "
            + "[role=complementary], [hidden], [aria-hidden=true]";

    /** The page's text, and its address (its canonical link when the caller has none). */
    public record Page(String url, String text) {}

    private HtmlText() {}

    /**
     * @param charset the charset named by the HTTP response, or null to detect it from the page
     * @param url     where the page came from, or null
     * @throws IOException when the bytes are not an HTML page (binary data)
     */
    public static Page extract(byte[] html, String charset, String url, String source) throws IOException {
        int probe = Math.min(html.length, 4096);
        for (int i = 0; i < probe; i++) {
            if (html[i] == 0) throw new IOException(source + ": not an HTML page (binary data: a NUL byte at " + i + ")");
        }
        Document page = Jsoup.parse(new ByteArrayInputStream(html), charset, url == null ? "" : url);
        if (url == null) {
            Element canonical = page.selectFirst("link[rel=canonical][href], meta[property=og:url][content]");
            if (canonical != null) url = canonical.hasAttr("href") ? canonical.absUrl("href") : canonical.attr("content");
            if (url != null && url.isBlank()) url = null;
        }
        page.select(BOILERPLATE).remove();
        Element root = page.selectFirst("main");
        if (root == null) root = page.selectFirst("article");
        if (root == null) root = page.body();
        return new Page(url, root == null ? "" : blocksText(root));
    }

    /** The text of the element, a line per block element, whitespace inside a line collapsed (kept in {@code <pre>}). */
    static String blocksText(Element root) {
        StringBuilder raw = new StringBuilder();
        root.traverse(new NodeVisitor() {
            @Override
            public void head(Node node, int depth) {
                if (node instanceof TextNode text) {
                    raw.append(inPre(text) ? text.getWholeText() : text.text());
                } else if (node instanceof Element e && (e.isBlock() || e.nameIs("br"))) {
                    raw.append('\n');
                }
            }

            @Override
            public void tail(Node node, int depth) {
                if (node instanceof Element e && e.isBlock()) raw.append('\n');
            }
        });
        StringBuilder out = new StringBuilder();
        for (String line : raw.toString().split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty()) continue;
            if (!out.isEmpty()) out.append('\n');
            out.append(trimmed);
        }
        return out.toString();
    }

    private static boolean inPre(TextNode text) {
        for (Node parent = text.parentNode(); parent instanceof Element e; parent = e.parentNode()) {
            if (e.nameIs("pre")) return true;
        }
        return false;
    }
}
