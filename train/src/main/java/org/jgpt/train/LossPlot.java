package org.jgpt.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.jgpt.io.AtomicFiles;

/** Draws training and validation loss against step as a PNG, with the JDK's own 2D graphics (headless). */
public final class LossPlot {
    private static final int WIDTH = 900;
    private static final int HEIGHT = 540;
    private static final int LEFT = 70;
    private static final int RIGHT = 30;
    private static final int TOP = 40;
    private static final int BOTTOM = 60;
    private static final Color TRAIN = new Color(0x1f77b4);
    private static final Color VALIDATION = new Color(0xff7f0e);

    private LossPlot() {}

    /** Writes the plot of (step, loss) points atomically to {@code png}. */
    public static void write(Path png, String lossName, List<double[]> train, List<double[]> validation) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);

        double maxStep = 1;
        double minLoss = Double.POSITIVE_INFINITY;
        double maxLoss = Double.NEGATIVE_INFINITY;
        for (List<double[]> series : List.of(train, validation)) {
            for (double[] p : series) {
                maxStep = Math.max(maxStep, p[0]);
                minLoss = Math.min(minLoss, p[1]);
                maxLoss = Math.max(maxLoss, p[1]);
            }
        }
        if (!Double.isFinite(minLoss)) {
            minLoss = 0;
            maxLoss = 1;
        }
        double pad = Math.max(1e-3, (maxLoss - minLoss) * 0.05);
        Axes axes = new Axes(0, maxStep, Math.max(0, minLoss - pad), maxLoss + pad);

        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(new Color(0xdddddd));
        for (int i = 0; i <= 5; i++) {
            int y = axes.y(axes.minY + (axes.maxY - axes.minY) * i / 5);
            g.drawLine(LEFT, y, WIDTH - RIGHT, y);
        }
        g.setColor(Color.DARK_GRAY);
        g.drawRect(LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
        for (int i = 0; i <= 5; i++) {
            double value = axes.minY + (axes.maxY - axes.minY) * i / 5;
            g.drawString(String.format(Locale.ROOT, "%.2f", value), 20, axes.y(value) + 4);
        }
        long tick = niceTick(maxStep / 5);
        for (long step = 0; step <= maxStep; step += tick) {
            String label = Long.toString(step);
            g.drawString(label, axes.x(step) - g.getFontMetrics().stringWidth(label) / 2, HEIGHT - BOTTOM + 18);
        }
        g.drawString("step", (WIDTH - LEFT - RIGHT) / 2 + LEFT - 12, HEIGHT - 20);
        g.drawString(lossName, 12, TOP - 14);

        g.setStroke(new BasicStroke(1.5f));
        drawSeries(g, axes, train, TRAIN, false);
        g.setStroke(new BasicStroke(2.5f));
        drawSeries(g, axes, validation, VALIDATION, true);

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        int legendX = WIDTH - RIGHT - 170;
        g.setColor(TRAIN);
        g.fillRect(legendX, TOP + 12, 18, 4);
        g.drawString("train", legendX + 26, TOP + 19);
        g.setColor(VALIDATION);
        g.fillRect(legendX + 80, TOP + 12, 18, 4);
        g.drawString("validation", legendX + 106, TOP + 19);
        g.dispose();

        AtomicFiles.write(png, temp -> ImageIO.write(image, "png", temp.toFile()));
    }

    /** The smallest of 1, 2 or 5 times a power of ten that is at least {@code rough} (and at least 1). */
    private static long niceTick(double rough) {
        long power = 1;
        while (true) {
            for (long m : new long[] {1, 2, 5}) {
                if (m * power >= rough) return m * power;
            }
            power *= 10;
        }
    }

    private static void drawSeries(Graphics2D g, Axes axes, List<double[]> points, Color color, boolean markers) {
        if (points.isEmpty()) return;
        g.setColor(color);
        Path2D.Double path = new Path2D.Double();
        for (int i = 0; i < points.size(); i++) {
            double x = axes.x(points.get(i)[0]);
            double y = axes.y(points.get(i)[1]);
            if (i == 0) path.moveTo(x, y);
            else path.lineTo(x, y);
            if (markers) g.fillOval((int) x - 3, (int) y - 3, 7, 7);
        }
        g.draw(path);
    }

    private record Axes(double minX, double maxX, double minY, double maxY) {
        int x(double value) {
            return LEFT + (int) Math.round((value - minX) / (maxX - minX) * (WIDTH - LEFT - RIGHT));
        }

        int y(double value) {
            return HEIGHT - BOTTOM - (int) Math.round((value - minY) / (maxY - minY) * (HEIGHT - TOP - BOTTOM));
        }
    }
}
