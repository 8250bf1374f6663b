package dev.streamtrain.ingest;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.streamtrain.model.spec.ModelSpec;
import dev.streamtrain.model.spec.ModelSpecParser;
import dev.streamtrain.support.HeapBudget;
import dev.streamtrain.training.ExampleBlock;
import dev.streamtrain.training.RecordHandle;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Arbitrary bytes as a training record's value (JSON): the decoder either returns a block that fits the spec or
 * refuses the record with a {@link RejectedRecordException} (a dead-letter reason); nothing else escapes, and its
 * heap cost is bounded by the record's size; a JSON record it accepts decodes as through Jackson alone. The kept
 * corpus ({@code ExampleDecoderFuzzTestInputs/decode/}) starts from real records of the digits data set and holds
 * what fuzzing found. Fuzzing: docs/hardening.md.
 */
class ExampleDecoderFuzzTest {

    private static final ModelSpec DIGITS = ModelSpecParser.load(null);
    private static final int MAX_BYTES = 64 * 1024;
    private static final int MAX_EXAMPLES = 64;
    private static final RecordHandle SOURCE = new RecordHandle() {
        @Override
        public String partition() {
            return "streamtrain.examples-0";
        }

        @Override
        public long offset() {
            return 0;
        }

        @Override
        public void trained() {
        }
    };

    private final ExampleDecoder decoder = new ExampleDecoder(DIGITS, MAX_BYTES, MAX_EXAMPLES);

    @FuzzTest(maxDuration = "10s")
    void decode(byte[] value) throws Exception {
        // a float per value read, doubled while growing, plus the block's copies: far below 64 bytes per input byte
        HeapBudget.within(value.length, 64, 1 << 20, () -> {
            ExampleBlock block;
            try {
                block = decoder.decode(value, SOURCE);
            } catch (RejectedRecordException refused) {
                assertThat(refused.reason()).isNotNull();
                assertThat(refused.detail()).isNotBlank();
                return;
            }
            assertThat(block.count()).isBetween(1, MAX_EXAMPLES);
            assertThat(block.features()).hasSizeGreaterThanOrEqualTo(block.count() * DIGITS.inputs());
            if (value[0] != 0) {
                // JSON: a record the one-example reader took decodes to the very floats Jackson gives
                ExampleBlock reference = decoder.decodeWithJackson(value, SOURCE);
                assertThat(block.features()).isEqualTo(reference.features());
                assertThat(block.labels()).isEqualTo(reference.labels());
                assertThat(block.weights()).isEqualTo(reference.weights());
            }
        });
    }
}
