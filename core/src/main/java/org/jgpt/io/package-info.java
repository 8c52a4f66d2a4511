/**
 * Reading and writing: JSON, and Hugging Face GPT-2 checkpoints.
 *
 * <ul>
 *   <li>{@link org.jgpt.io.Checkpoints#load} turns a model folder (config.json plus model.safetensors, shards and
 *       their index, or pytorch_model.bin) into {@link org.jgpt.model.GPT2Weights} whose tensors stay
 *       memory-mapped; {@link org.jgpt.io.Checkpoints#save} writes a folder transformers can load.</li>
 *   <li>{@link org.jgpt.io.Safetensors} reads (validated, memory-mapped) and writes (atomically) safetensors files;
 *       {@link org.jgpt.io.TorchCheckpoint} reads torch.save zip files through a restricted unpickler.</li>
 *   <li>Malformed or unsupported files raise {@link org.jgpt.io.CheckpointException}, naming the file and the
 *       tensor.</li>
 * </ul>
 */
package org.jgpt.io;
