package dev.streamtrain.serving;

import com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import inference.GrpcPredictV2.InferTensorContents;
import inference.GrpcPredictV2.ModelInferRequest.InferInputTensor;

/** The edges of reading gRPC tensor values: unsigned 32/64-bit values, FP16 bits, and values FP32 cannot hold. */
class GrpcTensorsTest {

    private static InferInputTensor tensor(String datatype, InferTensorContents contents) {
        return InferInputTensor.newBuilder().setName("input").setDatatype(datatype).addShape(2).setContents(contents).build();
    }

    private static ByteString littleEndian(int bytes, java.util.function.Consumer<ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
        fill.accept(b);
        return ByteString.copyFrom(b.array());
    }

    @Test
    void unsignedValuesAboveTheSignedRangeStayPositive() {
        assertThat(GrpcTensors.fromContents(tensor("UINT32", InferTensorContents.newBuilder()
                .addUintContents(-1).addUintContents(0x80000000).build()), 2))
                .containsExactly(4_294_967_295f, 2_147_483_648f);
        assertThat(GrpcTensors.fromContents(tensor("UINT64", InferTensorContents.newBuilder()
                .addUint64Contents(-1L).addUint64Contents(Long.MIN_VALUE).build()), 2))
                .containsExactly(1.8446744e19f, 9.223372e18f);
        ByteString raw = littleEndian(2, b -> b.put((byte) 0xff).put((byte) 0x80));
        assertThat(GrpcTensors.fromRaw(tensor("UINT8", InferTensorContents.getDefaultInstance()), raw, 2))
                .containsExactly(255f, 128f);
        assertThat(GrpcTensors.fromRaw(tensor("INT8", InferTensorContents.getDefaultInstance()), raw, 2))
                .containsExactly(-1f, -128f);
        ByteString raw64 = littleEndian(16, b -> b.putLong(-1L).putLong(42));
        assertThat(GrpcTensors.fromRaw(tensor("UINT64", InferTensorContents.getDefaultInstance()), raw64, 2))
                .containsExactly(1.8446744e19f, 42f);
    }

    @Test
    void fp16BitsAreReadAsIeeeHalfPrecision() {
        assertThat(GrpcTensors.halfToFloat((short) 0x3c00)).isEqualTo(1f);
        assertThat(GrpcTensors.halfToFloat((short) 0xc000)).isEqualTo(-2f);
        assertThat(GrpcTensors.halfToFloat((short) 0x7bff)).isEqualTo(65504f);
        assertThat(GrpcTensors.halfToFloat((short) 0x3555)).isEqualTo(0.33325195f);
        assertThat(GrpcTensors.halfToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(GrpcTensors.halfToFloat((short) 0x8000)).isEqualTo(-0f);
        assertThat(GrpcTensors.halfToFloat((short) 0x7c00)).isEqualTo(Float.POSITIVE_INFINITY);
        assertThat(GrpcTensors.halfToFloat((short) 0x7e00)).isNaN();
        ByteString inf = littleEndian(4, b -> b.putShort((short) 0x3c00).putShort((short) 0xfc00));
        assertThatThrownBy(() -> GrpcTensors.fromRaw(tensor("FP16", InferTensorContents.getDefaultInstance()), inf, 2))
                .isInstanceOf(InferenceException.class).hasMessageContaining("not a finite FP32 number at 1");
    }

    @Test
    void outputBytesAreLittleEndianFloats() {
        ByteString bytes = GrpcTensors.rawFp32(new float[] {1f, -0.5f});
        assertThat(bytes.toByteArray()).containsExactly(0, 0, (byte) 0x80, 0x3f, 0, 0, 0, (byte) 0xbf);
    }
}
