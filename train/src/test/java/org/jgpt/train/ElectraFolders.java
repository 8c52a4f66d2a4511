package org.jgpt.train;

import java.io.IOException;
import java.nio.file.Path;
import org.jgpt.model.ElectraConfig;
import org.jgpt.tokenizer.GPT2Tokenizer;

/** Random ELECTRA folders for tests in other packages, laid out as an rtd-random run saves its model. */
public final class ElectraFolders {
    private ElectraFolders() {}

    /** A discriminator (ElectraForPreTraining) of {@code config} from BERT's initialisation, with the vocabulary. */
    public static Path writeDiscriminator(Path dir, ElectraConfig config, GPT2Tokenizer tokenizer, long seed) throws IOException {
        TrainableElectra model = new TrainableElectra(config, null, 1f, 1, 1, 0f);
        model.initialize(seed);
        model.save(dir);
        TrainableElectra.writeRobertaTokenizerConfig(dir);
        tokenizer.save(dir);
        return dir;
    }
}
