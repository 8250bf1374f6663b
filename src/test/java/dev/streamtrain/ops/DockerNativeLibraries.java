package dev.streamtrain.ops;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The native libraries inside jars and what each needs from the dynamic linker: the DT_NEEDED entries of an
 * x86-64 ELF shared object, read from its {@code .dynamic} section as {@code readelf -d} shows them (no binutils
 * needed).
 */
final class DockerNativeLibraries {

    private static final int SHT_DYNAMIC = 6;
    private static final long DT_NULL = 0;
    private static final long DT_NEEDED = 1;

    private DockerNativeLibraries() {
    }

    /** True for shared objects by name: {@code libx.so} and versioned {@code libx.so.1.2}. */
    static boolean isSharedObject(String entryName) {
        String name = entryName.substring(entryName.lastIndexOf('/') + 1);
        return name.matches(".+\\.so(\\.[0-9]+)*");
    }

    /** The shared objects of a jar: entry name to file name, without extracting. */
    static List<String> sharedObjects(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName).filter(DockerNativeLibraries::isSharedObject).toList();
        }
    }

    /** Every shared object of the jar (by file name) with the sonames it needs; extracted into {@code workDir}. */
    static Map<String, List<String>> needed(Path jar, Path workDir) throws IOException {
        Map<String, List<String>> needed = new TreeMap<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry entry : zip.stream().filter(e -> isSharedObject(e.getName())).toList()) {
                String name = entry.getName().substring(entry.getName().lastIndexOf('/') + 1);
                Path file = workDir.resolve(name);
                try (InputStream in = zip.getInputStream(entry)) {
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
                needed.put(name, neededOf(file));
                Files.delete(file);
            }
        }
        return needed;
    }

    /** The DT_NEEDED sonames of a 64-bit little-endian ELF file. */
    static List<String> neededOf(Path elf) throws IOException {
        try (FileChannel channel = FileChannel.open(elf)) {
            ByteBuffer header = read(channel, 0, 64);
            if (header.getInt(0) != 0x464c457f || header.get(4) != 2 || header.get(5) != 1) {
                throw new IllegalStateException(elf.getFileName() + " is not a 64-bit little-endian ELF file");
            }
            long sectionsAt = header.getLong(0x28);
            int sectionSize = Short.toUnsignedInt(header.getShort(0x3A));
            int sections = Short.toUnsignedInt(header.getShort(0x3C));
            ByteBuffer table = read(channel, sectionsAt, sectionSize * sections);
            for (int s = 0; s < sections; s++) {
                int at = s * sectionSize;
                if (table.getInt(at + 4) == SHT_DYNAMIC) {
                    long offset = table.getLong(at + 24);
                    long size = table.getLong(at + 32);
                    int strings = table.getInt(at + 40);
                    long stringsAt = table.getLong(strings * sectionSize + 24);
                    long stringsSize = table.getLong(strings * sectionSize + 32);
                    return dynamicNeeded(read(channel, offset, (int) size), read(channel, stringsAt, (int) stringsSize));
                }
            }
            return List.of();
        }
    }

    private static List<String> dynamicNeeded(ByteBuffer dynamic, ByteBuffer strings) {
        List<String> needed = new ArrayList<>();
        for (int at = 0; at + 16 <= dynamic.limit(); at += 16) {
            long tag = dynamic.getLong(at);
            if (tag == DT_NULL) {
                break;
            }
            if (tag == DT_NEEDED) {
                int start = (int) dynamic.getLong(at + 8);
                int end = start;
                while (strings.get(end) != 0) {
                    end++;
                }
                byte[] name = new byte[end - start];
                strings.get(start, name);
                needed.add(new String(name, StandardCharsets.US_ASCII));
            }
        }
        return needed;
    }

    private static ByteBuffer read(FileChannel channel, long position, int size) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("unexpected end of file at " + (position + buffer.position()));
            }
        }
        return buffer.flip();
    }
}
