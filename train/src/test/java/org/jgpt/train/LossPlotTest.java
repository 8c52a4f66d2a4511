package org.jgpt.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The loss curve is a real PNG with both series drawn in their colours. */
class LossPlotTest {
    @TempDir
    Path dir;

    @Test
    void drawsTrainAndValidationCurves() throws IOException {
        Path png = dir.resolve("loss.png");
        List<double[]> train = List.of(new double[] {1, 10.8}, new double[] {50, 7.5}, new double[] {100, 5.2});
        List<double[]> validation = List.of(new double[] {50, 7.9}, new double[] {100, 5.6});
        LossPlot.write(png, "loss (nats / token)", train, validation);
        BufferedImage image = ImageIO.read(png.toFile());
        assertEquals(900, image.getWidth());
        assertEquals(540, image.getHeight());
        int blue = 0;
        int orange = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y) & 0xffffff;
                if (rgb == 0x1f77b4) blue++;
                if (rgb == 0xff7f0e) orange++;
            }
        }
        assertTrue(blue > 200, "train curve pixels: " + blue);
        assertTrue(orange > 200, "validation curve pixels: " + orange);
    }
}
