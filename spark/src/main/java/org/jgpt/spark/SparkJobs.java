package org.jgpt.spark;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaFutureAction;
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
 * {@link #partitions} of them. What stays on the driver: writing the token shards and the corpus (collected in one
 * job up to {@link #COLLECT_BYTES} of input, else streamed one partition at a time from the executors' cache),
 * OR-ing the partitions' Bloom filters, and merging check reports.
 */
public final class SparkJobs {
    /** Default size of a {@code .jsonl} byte range. */
    public static final long SPLIT_BYTES = 64L << 20;
    /**
     * Inputs up to this size bring their results (tokens, the kept documents) to the driver in one job, well under
     * Spark's 1 GB {@code spark.driver.maxResultSize}; bigger inputs stream them a partition at a time.
     */
    public static final long COLLECT_BYTES = 256L << 20;

    /** Task results up to this size travel in the task's status message; Spark caps it at its RPC message size. */
    static final long DIRECT_RESULT_BYTES = 64L << 20;

    private final JavaSparkContext spark;
    private final long splitBytes;
    private final long collectBytes;

    public SparkJobs(JavaSparkContext spark, long splitBytes) {
        this(spark, splitBytes, COLLECT_BYTES);
    }

    /** @param collectBytes the input size up to which results come back in one job ({@link #COLLECT_BYTES}) */
    SparkJobs(JavaSparkContext spark, long splitBytes, long collectBytes) {
        this.spark = spark;
        this.splitBytes = splitBytes;
        this.collectBytes = collectBytes;
    }

    /** A Spark context for the master URL ({@code local[*]}, {@code spark://host:7077}, ...), quiet on the console. */
    public static JavaSparkContext context(String master, String job) {
        SparkConf conf = new SparkConf().setAppName("jgpt " + job).setIfMissing("spark.ui.enabled", "false")
                .set("spark.executor.extraJavaOptions", "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED")
                // A task's result (a block of tokens, a Bloom filter) comes back with its status message instead of
                // through the block manager: one copy fewer, and no fetch over the network stack (bench/README.md).
                .setIfMissing("spark.task.maxDirectResultSize", String.valueOf(DIRECT_RESULT_BYTES));
        if (master != null) conf.setMaster(master);
        else conf.setIfMissing("spark.master", "local[*]");
        JavaSparkContext context = new JavaSparkContext(conf);
        context.setLogLevel("WARN");
        return context;
    }

    /** How many partitions a job's splits are cut into: a few per core, so that unequal files even out. */
    int partitions(List<FileSplit> splits) {
        return partitions(splits, 3);
    }

    /** How many partitions overlap build cuts its splits into: one a core, as each returns a whole filter. */
    int filterPartitions(List<FileSplit> splits) {
        return partitions(splits, 1);
    }

    private int partitions(List<FileSplit> splits, int perCore) {
        return Math.max(1, Math.min(splits.size(), perCore * spark.defaultParallelism()));
    }

    private JavaRDD<List<FileSplit>> distribute(List<FileSplit> splits) {
        return distribute(splits, partitions(splits));
    }

    private JavaRDD<List<FileSplit>> distribute(List<FileSplit> splits, int partitions) {
        List<List<FileSplit>> runs = FileSplit.partitions(splits, partitions);
        return spark.parallelize(runs, runs.size());
    }

    /**
     * {@code jgpt prepare}: the same shards and manifest, tokenized in parallel, written by the driver in order. Each
     * task returns its partition's tokens as one compact block; inputs up to {@link #COLLECT_BYTES} come back in one
     * job, bigger ones are cached on the executors, counted, and streamed to the driver a partition at a time. The
     * driver saves the tokenizer's files while the tasks run.
     */
    public CorpusPreparer.Summary prepare(List<Path> inputs, Path out, Path model, double valFraction, int shardTokens)
            throws IOException {
        ShippedTokenizer shipped = ShippedTokenizer.of(model);
        GPT2Tokenizer tokenizer = shipped.tokenizer();
        CorpusPreparer.checkSettings(out, tokenizer, valFraction, shardTokens);
        List<FileSplit> splits = FileSplit.of(CorpusPreparer.inputFiles(inputs), splitBytes, CorpusPreparer::isJsonl);
        JavaRDD<TokenBlock> blocks = distribute(splits).map(run -> TokenBlock.of(run, shipped.tokenizer()));
        boolean small = fitsOnDriver(splits);
        if (!small) blocks.persist(StorageLevel.MEMORY_AND_DISK());
        JavaFutureAction<List<TokenBlock>> collected = small ? blocks.collectAsync() : null;
        JavaFutureAction<List<Integer>> counted = small ? null : blocks.map(TokenBlock::documents).collectAsync();
        try (CorpusPreparer.Output output = new CorpusPreparer.Output(out, tokenizer, valFraction, shardTokens)) {
            if (small) {
                List<TokenBlock> all = await(collected);
                return writeShards(all.iterator(), all.stream().mapToLong(TokenBlock::documents).sum(), output, inputs);
            }
            long count = await(counted).stream().mapToLong(Integer::longValue).sum();
            return writeShards(blocks.toLocalIterator(), count, output, inputs);
        } catch (IOException | RuntimeException | Error e) {
            (small ? collected : counted).cancel(true);
            throw e;
        } finally {
            if (!small) blocks.unpersist(false);
        }
    }

    /** The result of a job started asynchronously, its failure thrown as a blocking action would throw it. */
    private static <T> T await(JavaFutureAction<T> job) throws IOException {
        try {
            return job.get();
        } catch (InterruptedException e) {
            job.cancel(true);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the Spark job");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException failure) throw failure;
            if (e.getCause() instanceof Error error) throw error;
            throw new IOException(e.getCause());
        }
    }

    /** Whether the inputs are small enough for a job's results to come back to the driver at once. */
    private boolean fitsOnDriver(List<FileSplit> splits) {
        long total = 0;
        for (FileSplit s : splits) total += s.bytes();
        return total <= collectBytes;
    }

    private static CorpusPreparer.Summary writeShards(Iterator<TokenBlock> blocks, long count, CorpusPreparer.Output output,
                                                      List<Path> inputs) throws IOException {
        if (count == 0) throw new IOException("no documents found in " + inputs);
        output.announce(Math.toIntExact(count));
        while (blocks.hasNext()) {
            TokenBlock block = blocks.next();
            int at = 0;
            for (int d = 0; d < block.documents(); d++) {
                int[] tokens = new int[block.tokenCounts()[d]];
                for (int i = 0; i < tokens.length; i++, at += 2) tokens[i] = (block.tokens()[at] & 0xff) | (block.tokens()[at + 1] & 0xff) << 8;
                output.add(tokens, block.documentBytes()[d]);
            }
        }
        return output.finish();
    }

    /**
     * A partition's documents tokenized: each one's token count and input bytes, and all their tokens as
     * little-endian uint16 (the shards' own width; {@code checkSettings} refuses larger vocabularies), which travel
     * to the driver as one byte array instead of an object per document.
     */
    record TokenBlock(int[] tokenCounts, long[] documentBytes, byte[] tokens) implements Serializable {
        int documents() {
            return tokenCounts.length;
        }

        static TokenBlock of(List<FileSplit> run, GPT2Tokenizer tokenizer) throws IOException {
            List<int[]> documents = new ArrayList<>();
            List<Long> bytes = new ArrayList<>();
            int total = 0;
            for (FileSplit split : run) {
                for (CorpusPreparer.Document doc : CorpusPreparer.documents(split.toPath(), split.start(), split.end())) {
                    int[] tokens = doc.tokens(tokenizer);
                    documents.add(tokens);
                    bytes.add(doc.bytes());
                    total = Math.addExact(total, tokens.length);
                }
            }
            int[] tokenCounts = new int[documents.size()];
            long[] documentBytes = new long[documents.size()];
            byte[] packed = new byte[Math.multiplyExact(2, total)];
            int at = 0;
            for (int d = 0; d < tokenCounts.length; d++) {
                tokenCounts[d] = documents.get(d).length;
                documentBytes[d] = bytes.get(d);
                for (int id : documents.get(d)) {
                    packed[at++] = (byte) id;
                    packed[at++] = (byte) (id >>> 8);
                }
            }
            return new TokenBlock(tokenCounts, documentBytes, packed);
        }
    }

    /**
     * {@code jgpt overlap build}: 8-grams counted, then one filter filled per partition and the filters OR-ed. Each
     * partition's result is a whole filter (about 4.8 bytes an 8-gram at a rate of 1e-8), so there is one partition a
     * core, of about equal bytes, rather than the few a core of the other jobs.
     */
    public Overlap.BuildReport overlapBuild(List<Path> files, double rate, Overlap.Format format) throws IOException {
        long start = System.nanoTime();
        long total = Overlap.totalSize(files);
        List<FileSplit> splits = FileSplit.of(files, splitBytes, SparkJobs::isJsonl);
        String separator = format.separator(), field = format.jsonField();
        JavaRDD<List<FileSplit>> runs = distribute(splits, filterPartitions(splits));
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
     * {@code jgpt build-corpus}: files read and filtered in parallel, each document's exact-duplicate key (a 32-byte
     * hash) and MinHash signature (1 KB) computed in the tasks, and the survivors written in corpus order. Inputs up to
     * {@link #COLLECT_BYTES} come to the driver in one job, documents with their keys, and are grouped there as in the
     * single process; bigger inputs find the duplicates by a shuffle and stream the survivors a partition at a time.
     * The same rules as the single process, so the same output whatever the partitioning.
     */
    public CorpusBuilder.Report buildCorpus(List<Path> inputs, Path out, CorpusBuilder.Settings settings) throws IOException {
        CorpusBuilder.checkOutput(out);
        List<Path> files = CorpusBuilder.inputFiles(inputs);
        List<FileSplit> splits = FileSplit.of(files, Long.MAX_VALUE, file -> false);
        MinHash minHash = new MinHash(settings.nearThreshold(), settings.seed());
        JavaRDD<CorpusBuilder.FileResult> results = distribute(splits).flatMap(run -> {
            List<CorpusBuilder.FileResult> read = new ArrayList<>();
            for (FileSplit s : run) read.add(CorpusBuilder.readFile(s.toPath(), s.file(), settings));
            return read.iterator();
        });
        if (fitsOnDriver(splits)) return buildOnDriver(results, minHash, out, settings);
        return buildByShuffle(results, minHash, out, settings);
    }

    /**
     * Small inputs: each file's counts and kept documents, with their exact keys and signatures, come back in one job,
     * and the driver groups them as the single process does, instead of paying for a shuffle and a second pass.
     */
    private static CorpusBuilder.Report buildOnDriver(JavaRDD<CorpusBuilder.FileResult> results, MinHash minHash, Path out,
                                                      CorpusBuilder.Settings settings) throws IOException {
        CorpusBuilder.Counts counts = CorpusBuilder.Counts.ZERO;
        Set<String> seen = new HashSet<>();
        List<MinHash.Signed> unique = new ArrayList<>();
        List<EncodedDocument> documents = new ArrayList<>();
        Set<Long> exact = new HashSet<>();
        for (KeyedFile file : results.map(r -> KeyedFile.of(r, minHash)).collect()) {
            counts = counts.plus(file.counts());
            documents.addAll(file.documents());
            for (int i = 0; i < file.signed().size(); i++) {
                if (seen.add(file.exactKeys().get(i))) unique.add(file.signed().get(i));
                else exact.add(file.signed().get(i).order());
            }
        }
        Set<Long> near = minHash.nearDuplicates(unique);
        Iterator<CorpusBuilder.Document> kept = documents.stream()
                .filter(d -> !exact.contains(d.order()) && !near.contains(d.order())).map(EncodedDocument::decode).iterator();
        return CorpusBuilder.write(out, settings, counts, exact.size(), near.size(), kept);
    }

    /**
     * Big inputs: the read files cached on the executors, duplicates found by {@link #shuffleDuplicates}, and the
     * survivors streamed to the driver a partition at a time.
     */
    private CorpusBuilder.Report buildByShuffle(JavaRDD<CorpusBuilder.FileResult> read, MinHash minHash, Path out,
                                                CorpusBuilder.Settings settings) throws IOException {
        JavaRDD<CorpusBuilder.FileResult> results = read.persist(StorageLevel.MEMORY_AND_DISK());
        try {
            JavaRDD<CorpusBuilder.Document> documents = results.flatMap(r -> r.kept().iterator());
            CorpusBuilder.Counts counts = results.map(CorpusBuilder.FileResult::counts)
                    .fold(CorpusBuilder.Counts.ZERO, CorpusBuilder.Counts::plus);
            Set<Long> exact = new HashSet<>(), near = new HashSet<>();
            for (Dropped d : shuffleDuplicates(documents, minHash)) (d.exact() ? exact : near).add(d.order());
            // The near-duplicate pass of the single process sees only the unique documents. An exact duplicate has
            // its original's signature, so letting it into the buckets marks no other document: the near duplicates
            // are those marked here less the exact ones.
            near.removeAll(exact);
            Set<Long> drop = new HashSet<>(exact);
            drop.addAll(near);
            Broadcast<Set<Long>> duplicates = spark.broadcast(drop);
            Iterator<EncodedDocument> inOrder = documents.filter(d -> !duplicates.value().contains(d.order()))
                    .map(EncodedDocument::of).toLocalIterator();
            return CorpusBuilder.write(out, settings, counts, exact.size(), near.size(), new Iterator<>() {
                public boolean hasNext() {
                    return inOrder.hasNext();
                }

                public CorpusBuilder.Document next() {
                    return inOrder.next().decode();
                }
            });
        } finally {
            results.unpersist(false);
        }
    }

    /**
     * Exact and near duplicates by one shuffle that groups the documents by their exact key and by each LSH band key.
     * Narrow steps keep each partition's documents in corpus order, so no sort is needed: only keys and signatures are
     * shuffled, and the documents they drop are filtered out where they are. An entry's value is a long array, the
     * order and then the signature (none for an exact key): Java serialization writes it in one piece.
     */
    private static List<Dropped> shuffleDuplicates(JavaRDD<CorpusBuilder.Document> documents, MinHash minHash) {
        return documents.flatMapToPair(d -> {
            List<Tuple2<String, long[]>> entries = new ArrayList<>();
            entries.add(new Tuple2<>(CorpusBuilder.exactKey(d.text()), new long[] {d.order()}));
            long[] signature = minHash.signature(CorpusBuilder.normalize(d.text()));
            long[] keys = minHash.bandKeys(signature);
            long[] signed = new long[1 + signature.length];
            signed[0] = d.order();
            System.arraycopy(signature, 0, signed, 1, signature.length);
            for (int b = 0; b < keys.length; b++) entries.add(new Tuple2<>(b + ":" + keys[b], signed));
            return entries.iterator();
        }).groupByKey().flatMap(group -> {
            List<long[]> members = new ArrayList<>();
            group._2().forEach(members::add);
            List<Dropped> later = new ArrayList<>();
            if (members.size() < 2) return later.iterator();
            if (members.get(0).length == 1) { // an exact key: all but the first in corpus order are duplicates
                members.sort(Comparator.comparingLong(m -> m[0]));
                for (long[] m : members.subList(1, members.size())) later.add(new Dropped(m[0], true));
            } else {
                List<MinHash.Signed> bucket = new ArrayList<>();
                for (long[] m : members) bucket.add(new MinHash.Signed(m[0], Arrays.copyOfRange(m, 1, m.length)));
                for (long order : minHash.laterDuplicates(bucket)) later.add(new Dropped(order, false));
            }
            return later.iterator();
        }).collect();
    }

    /** A file's counts and, for each document it kept, in order, the document, its exact key and its signature. */
    record KeyedFile(CorpusBuilder.Counts counts, List<EncodedDocument> documents, List<String> exactKeys,
                     List<MinHash.Signed> signed) implements Serializable {
        static KeyedFile of(CorpusBuilder.FileResult result, MinHash minHash) {
            List<EncodedDocument> documents = new ArrayList<>();
            List<String> exactKeys = new ArrayList<>();
            List<MinHash.Signed> signed = new ArrayList<>();
            for (CorpusBuilder.Document d : result.kept()) {
                documents.add(EncodedDocument.of(d));
                exactKeys.add(CorpusBuilder.exactKey(d.text()));
                signed.add(new MinHash.Signed(d.order(), minHash.signature(CorpusBuilder.normalize(d.text()))));
            }
            return new KeyedFile(result.counts(), documents, exactKeys, signed);
        }
    }

    /**
     * A kept document on its way to the driver, its text as UTF-8 bytes: Java serialization writes a String a
     * character at a time, several times slower than encoding it and copying the bytes.
     */
    record EncodedDocument(long order, String url, byte[] text) implements Serializable {
        static EncodedDocument of(CorpusBuilder.Document d) {
            return new EncodedDocument(d.order(), d.url(), d.text().getBytes(StandardCharsets.UTF_8));
        }

        CorpusBuilder.Document decode() {
            return new CorpusBuilder.Document(order, url, new String(text, StandardCharsets.UTF_8));
        }
    }

    /** A document that a group of the deduplication shuffle drops: an exact duplicate or a near one. */
    record Dropped(long order, boolean exact) implements Serializable {}
}
