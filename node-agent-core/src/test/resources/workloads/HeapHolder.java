import java.io.*;
import java.net.*;
import java.util.zip.CRC32;

/** Test workload: fills ~1 GiB of heap, then answers each TCP connection with the CRC of it. */
public class HeapHolder {
  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    byte[][] heap = new byte[1024][];
    long seed = 42;
    for (int i = 0; i < heap.length; i++) {
      heap[i] = new byte[1 << 20];
      for (int j = 0; j < heap[i].length; j += 8) {
        seed = seed * 6364136223846793005L + 1442695040888963407L;
        heap[i][j] = (byte) (seed >>> 56);
      }
    }
    long expected = crc(heap);
    try (ServerSocket server = new ServerSocket(port, 50, InetAddress.getLoopbackAddress())) {
      System.out.println("ready " + expected);
      while (true) {
        try (Socket s = server.accept(); PrintWriter out = new PrintWriter(s.getOutputStream(), true)) {
          out.println(crc(heap) + " " + expected);
        }
      }
    }
  }

  static long crc(byte[][] heap) {
    CRC32 c = new CRC32();
    for (byte[] b : heap) c.update(b);
    return c.getValue();
  }
}
