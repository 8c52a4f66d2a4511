package org.jgpt.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;
import org.jgpt.eval.BloomFilter;
import org.jgpt.eval.Overlap;
import org.jgpt.eval.Progress;
import org.jgpt.tokenizer.GPT2Tokenizer;
import org.jgpt.train.CorpusPreparer;
import org.jgpt.train.corpus.CorpusBuilder;
import org.jgpt.train.corpus.MinHash;
import scala.Tuple2;

/**
 * jgpt's data jobs on Spark: the same per-file functions as the single-process commands run in tasks, and the
 * driver puts their results together in input order, so the outputs are the same files.
 *
 * <p>Work is partitioned by input byte ranges ({@link FileSplit}): runs of consecutive ranges of about equal size,
 * {@link #partitions} of them. What stays on the driver: writing the token shards and the corpus (it streams one
 * partition at a time from the executors' cache), OR-ing the partitions' Bloom filters, and merging check reports.
 */
public final class SparkJobs {
    /** Default size of a {@code .jsonl} byte range. */
    public static final long SPLIT_BYTES = 64L << 20;

    private final JavaSparkContext spark;
    private final long splitBytes;

    public SparkJobs(JavaSparkContext spark, long splitBytes) {
        this.spark = spark;
        this.splitBytes = splitBytes;
    }

    /** A Spark context for the master URL ({@code local[*]}, {@code spark://host:7077}, ...), quiet on the console. */
    public static JavaSparkContext context(String master, String job) {
        SparkConf conf = new SparkConf().setAppName("jgpt " + job).setIfMissing("spark.ui.enabled", "false")
                .set("spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED");
        if (master != null) conf.setMaster(master);
        else conf.setIfMissing("spark.master", "local[*]");
        JavaSparkContext context = new JavaSparkContext(conf);
        context.setLogLevel("WARN");
        return context;
    }

    /** How many partitions a job's splits are cut into: a few per core, so that unequal files even out. */
    int partitions(List<FileSplit> splits) {
        return Math.max(1, Math.min(splits.size(), 3 * spark.defaultParallelism()));
    }

    private JavaRDD<List<FileSplit>> distribute(List<FileSplit> splits) {
        List<List<FileSplit>> runs = FileSplit.partitions(splits, partitions(splits));
        return spark.parallelize(runs, runs.size());
    }

    /** {@code jgpt prepare}: the same shards and manifest, tokenized in parallel, written by the driver in order. */
    public CorpusPreparer.Summary prepare(List<Path> inputs, Path out, Path model, double valFraction, int shardTokens)
            throws IOException {
        ShippedTokenizer shipped = ShippedTokenizer.of(model);
        GPT2Tokenizer tokenizer = shipped.tokenizer();
        CorpusPreparer.checkSettings(out, tokenizer, valFraction, shardTokens);
        List<FileSplit> splits = FileSplit.of(CorpusPreparer.inputFiles(inputs), splitBytes, CorpusPreparer::isJsonl);
        JavaRDD<TokenizedDocument> documents = distribute(splits).flatMap(run -> {
            GPT2Tokenizer local = shipped.tokenizer();
            List<TokenizedDocument> tokenized = new ArrayList<>();
            for (FileSplit split : run) {
                for (CorpusPreparer.Document doc : CorpusPreparer.documents(split.toPath(), split.start(), split.end())) {
                    tokenized.add(new TokenizedDocument(doc.tokens(local), doc.bytes()));
                }
            }
            return tokenized.iterator();
        }).persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            long count = documents.count();
            if (count == 0) throw new IOException("no documents found in " + inputs);
            try (CorpusPreparer.Output output = new CorpusPreparer.Output(out, tokenizer, valFraction, shardTokens, Math.toIntExact(count))) {
                Iterator<TokenizedDocument> inOrder = documents.toLocalIterator();
                while (inOrder.hasNext()) {
                    TokenizedDocument doc = inOrder.next();
                    output.add(doc.tokens(), doc.bytes());
                }
                return output.finish();
            }
        } finally {
            documents.unpersist(false);
        }
    }

    record TokenizedDocument(int[] tokens, long bytes) implements Serializable {}

    /** {@code jgpt overlap build}: 8-grams counted, then one filter filled per partition and the filters OR-ed. */
    public Overlap.BuildReport overlapBuild(List<Path> files, double rate, Overlap.Format format) throws IOException {
        long start = System.nanoTime();
        long total = Overlap.totalSize(files);
        List<FileSplit> splits = FileSplit.of(files, splitBytes, SparkJobs::isJsonl);
        String separator = format.separator(), field = format.jsonField();
        JavaRDD<List<FileSplit>> runs = distribute(splits);
        long count = runs.map(run -> {
            long n = 0;
            for (FileSplit s : run) n += Overlap.countNgrams(s.toPath(), s.start(), s.end(), new Overlap.Format(separator, field), Progress.NONE);
            return n;
        }).reduce(Long::sum);
        BloomFilter filter = runs.map(run -> {
            BloomFilter part = BloomFilter.forCapacity(count, rate); // the same shape in every task
            for (FileSplit s : run) Overlap.addNgrams(part, s.toPath(), s.start(), s.end(), new Overlap.Format(separator, field), Progress.NONE);
            return part;
        }).reduce((a, b) -> {
            a.or(b);
            return a;
        });
        return new Overlap.BuildReport(filter, 2 * total, count, (System.nanoTime() - start) / 1e9);
    }

    /** {@code jgpt overlap check}: ranges checked in parallel against the broadcast filter, reports merged per file. */
    public Overlap.CheckReport overlapCheck(BloomFilter filter, List<Path> files, Overlap.Format format) throws IOException {
        long start = System.nanoTime();
        long total = Overlap.totalSize(files);
        List<FileSplit> splits = FileSplit.of(files, splitBytes, SparkJobs::isJsonl);
        String separator = format.separator(), field = format.jsonField();
        Broadcast<BloomFilter> shared = spark.broadcast(filter);
        List<List<RangeReport>> parts = distribute(splits).map(run -> {
            List<RangeReport> reports = new ArrayList<>();
            for (FileSplit s : run) {
                Overlap.FileReport r = Overlap.check(shared.value(), s.toPath(), s.start(), s.end(), new Overlap.Format(separator, field), Progress.NONE);
                reports.add(new RangeReport(s.file(), r.documents(), r.ngrams(), r.found(), r.overlaps()));
            }
            return reports;
        }).collect();
        shared.destroy();
        List<List<Overlap.FileReport>> byFile = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) byFile.add(new ArrayList<>());
        for (List<RangeReport> run : parts) {
            for (RangeReport r : run) byFile.get(r.file).add(new Overlap.FileReport(files.get(r.file), r.documents, r.ngrams, r.found, r.overlaps));
        }
        List<Overlap.FileReport> reports = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) reports.add(Overlap.merge(files.get(i), byFile.get(i)));
        return new Overlap.CheckReport(reports, total, (System.nanoTime() - start) / 1e9);
    }

    record RangeReport(int file, int documents, long ngrams, long found, double[] overlaps) implements Serializable {}

    private static boolean isJsonl(Path file) {
        return file.getFileName().toString().endsWith(".jsonl");
    }

    /**
     * {@code jgpt build-corpus}: files read and filtered in parallel, exact duplicates by a shuffle of the texts'
     * hashes, near duplicates by a shuffle of LSH band keys and signatures, then the survivors streamed to the driver
     * in corpus order and written. The same rules as the single process, so the same output whatever the partitioning.
     */
    public CorpusBuilder.Report buildCorpus(List<Path> inputs, Path out, CorpusBuilder.Settings settings) throws IOException {
        CorpusBuilder.checkOutput(out);
        List<Path> files = CorpusBuilder.inputFiles(inputs);
        List<FileSplit> splits = FileSplit.of(files, Long.MAX_VALUE, file -> false);
        JavaRDD<CorpusBuilder.FileResult> results = distribute(splits).flatMap(run -> {
            List<CorpusBuilder.FileResult> read = new ArrayList<>();
            for (FileSplit s : run) read.add(CorpusBuilder.readFile(s.toPath(), s.file(), settings));
            return read.iterator();
        }).persist(StorageLevel.MEMORY_AND_DISK_SER());
        try {
            CorpusBuilder.Counts counts = results.map(CorpusBuilder.FileResult::counts).fold(CorpusBuilder.Counts.ZERO, CorpusBuilder.Counts::plus);
            // Narrow steps keep each partition's documents in corpus order, so no sort is needed: only hashes and
            // signatures are shuffled, and the documents they drop are filtered out where they are.
            JavaRDD<CorpusBuilder.Document> documents = results.flatMap(r -> r.kept().iterator());
            Set<Long> exact = new HashSet<>(documents.mapToPair(d -> new Tuple2<>(CorpusBuilder.exactKey(d.text()), d.order()))
                    .groupByKey().flatMap(group -> {
                        List<Long> orders = new ArrayList<>();
                        group._2().forEach(orders::add);
                        orders.sort(null);
                        return orders.subList(1, orders.size()).iterator();
                    }).collect());
            Broadcast<Set<Long>> exactDuplicates = spark.broadcast(exact);
            JavaRDD<CorpusBuilder.Document> unique = documents.filter(d -> !exactDuplicates.value().contains(d.order()));

            MinHash minHash = new MinHash(settings.nearThreshold(), settings.seed());
            JavaPairRDD<String, MinHash.Signed> bands = unique.flatMapToPair(d -> {
                long[] signature = minHash.signature(CorpusBuilder.normalize(d.text()));
                long[] keys = minHash.bandKeys(signature);
                List<Tuple2<String, MinHash.Signed>> entries = new ArrayList<>();
                for (int b = 0; b < keys.length; b++) entries.add(new Tuple2<>(b + ":" + keys[b], new MinHash.Signed(d.order(), signature)));
                return entries.iterator();
            });
            Set<Long> near = new HashSet<>(bands.groupByKey().flatMap(bucket -> {
                List<MinHash.Signed> members = new ArrayList<>();
                bucket._2().forEach(members::add);
                return members.size() > 1 ? minHash.laterDuplicates(members).iterator() : List.<Long>of().iterator();
            }).distinct().collect());
            Broadcast<Set<Long>> nearDuplicates = spark.broadcast(near);
            JavaRDD<CorpusBuilder.Document> kept = unique.filter(d -> !nearDuplicates.value().contains(d.order()));
            return CorpusBuilder.write(out, settings, counts, exact.size(), near.size(), kept.toLocalIterator());
        } finally {
            results.unpersist(false);
        }
    }
}
