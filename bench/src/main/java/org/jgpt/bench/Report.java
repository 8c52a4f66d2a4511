package org.jgpt.bench;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import org.jgpt.kernel.DType;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the GEMM, decode and bandwidth benchmarks in one JMH run and prints what they are judged by: GEMM GFLOP/s
 * as a fraction of OpenBLAS's, and decode GB/s (weight bytes per step / time) as a fraction of the measured
 * read bandwidth, with the tokens per second that bound implies. JMH options given on the command line (e.g.
 * {@code -wi 2 -i 3 -w 1s -r 1s}) apply to every benchmark.
 */
public final class Report {
    private Report() {}

    public static void main(String[] args) throws RunnerException, Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        Collection<RunResult> results = new Runner(new OptionsBuilder().parent(cli)
                .include(GemmBenchmark.class.getSimpleName())
                .include(DecodeBenchmark.class.getSimpleName())
                .include(BandwidthBenchmark.class.getSimpleName())
                .build()).run();

        Map<String, Double> millis = new HashMap<>();
        for (RunResult r : results) {
            var params = r.getParams();
            String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
            String key = switch (method) {
                case "jgpt", "jgptBf16", "openblas" -> method + " " + params.getParam("shape");
                case "step" -> "step " + params.getParam("dtype");
                default -> method;
            };
            millis.put(key, r.getPrimaryResult().getScore());
        }

        System.out.println();
        System.out.printf("%-18s %12s %12s %12s %10s%n", "GEMM M x K x N", "jgpt GF/s", "bf16 GF/s", "OpenBLAS", "ratio");
        for (String shape : new GemmBenchmark().getClass().getField("shape").getAnnotation(
                org.openjdk.jmh.annotations.Param.class).value()) {
            if (!millis.containsKey("jgpt " + shape)) continue;
            String[] d = shape.replace("T", "").split("x");
            double flop = 2.0 * Long.parseLong(d[0]) * Long.parseLong(d[1]) * Long.parseLong(d[2]);
            double jgpt = flop / millis.get("jgpt " + shape) / 1e6;
            double bf16 = flop / millis.getOrDefault("jgptBf16 " + shape, Double.NaN) / 1e6;
            double blas = flop / millis.getOrDefault("openblas " + shape, Double.NaN) / 1e6;
            System.out.printf("%-18s %12.1f %12.1f %12.1f %9.0f%%%n", shape, jgpt, bf16, blas, 100 * jgpt / blas);
        }

        double bandwidth = BandwidthBenchmark.BYTES / millis.getOrDefault("read", Double.NaN) / 1e6;
        System.out.printf("%nread bandwidth: %.1f GB/s%n", bandwidth);
        System.out.printf("%-8s %12s %10s %12s %10s%n", "decode", "ms/step", "GB/s", "of roofline", "tok/s max");
        for (DType dtype : DType.values()) {
            Double ms = millis.get("step " + dtype);
            if (ms == null) continue;
            double gbs = DecodeBenchmark.weightBytes(dtype) / ms / 1e6;
            System.out.printf("%-8s %12.2f %10.1f %11.0f%% %10.1f%n", dtype, ms, gbs, 100 * gbs / bandwidth, 1000 / ms);
        }
    }
}
