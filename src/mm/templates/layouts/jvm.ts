/**
 * The real /proc/PID/maps the `jvm` template is modelled on: OpenJDK 17 with 24 extra threads and the default (6 GiB) heap reservation, on this host.
 * Captured on Linux 6.18 x86-64 (also test/fixtures/real-maps/java24-host.maps); the template relocates its
 * regions as ASLR would (relocate.ts), so only the shape is taken from here.
 */
export const JVM_LAYOUT = `687400000-69f000000 rw-p 00000000 00:00 0 
69f000000-7ff800000 ---p 00000000 00:00 0 
7ff800000-7ffb00000 rw-p 00000000 00:00 0 
7ffb00000-7ffb75000 rw-p 00c77000 fe:00 328258                           /usr/lib/jvm/java-17-openjdk-amd64/lib/server/classes.jsa
7ffb75000-7ffc00000 rw-p 00000000 00:00 0 
7ffc00000-7ffc78000 rw-p 00bff000 fe:00 328258                           /usr/lib/jvm/java-17-openjdk-amd64/lib/server/classes.jsa
7ffc78000-800000000 rw-p 00000000 00:00 0 
55f3652c9000-55f3652ca000 r--p 00000000 fe:00 327901                     /usr/lib/jvm/java-17-openjdk-amd64/bin/java
55f3652ca000-55f3652cb000 r-xp 00001000 fe:00 327901                     /usr/lib/jvm/java-17-openjdk-amd64/bin/java
55f3652cb000-55f3652cc000 r--p 00002000 fe:00 327901                     /usr/lib/jvm/java-17-openjdk-amd64/bin/java
55f3652cc000-55f3652cd000 r--p 00002000 fe:00 327901                     /usr/lib/jvm/java-17-openjdk-amd64/bin/java
55f3652cd000-55f3652ce000 rw-p 00003000 fe:00 327901                     /usr/lib/jvm/java-17-openjdk-amd64/bin/java
55f39edea000-55f39ee31000 rw-p 00000000 00:00 0                          [heap]
7f09f4000000-7f09f4021000 rw-p 00000000 00:00 0 
7f09f4021000-7f09f8000000 ---p 00000000 00:00 0 
7f09fc000000-7f09fc060000 rw-p 00000000 00:00 0 
7f09fc060000-7f0a00000000 ---p 00000000 00:00 0 
7f0a00000000-7f0a00038000 rw-p 00000000 00:00 0 
7f0a00038000-7f0a04000000 ---p 00000000 00:00 0 
7f0a04000000-7f0a04021000 rw-p 00000000 00:00 0 
7f0a04021000-7f0a08000000 ---p 00000000 00:00 0 
7f0a08000000-7f0a08021000 rw-p 00000000 00:00 0 
7f0a08021000-7f0a0c000000 ---p 00000000 00:00 0 
7f0a0c000000-7f0a0c021000 rw-p 00000000 00:00 0 
7f0a0c021000-7f0a10000000 ---p 00000000 00:00 0 
7f0a10000000-7f0a10021000 rw-p 00000000 00:00 0 
7f0a10021000-7f0a14000000 ---p 00000000 00:00 0 
7f0a14000000-7f0a14021000 rw-p 00000000 00:00 0 
7f0a14021000-7f0a18000000 ---p 00000000 00:00 0 
7f0a1b000000-7f0a1b050000 rw-p 00000000 00:00 0 
7f0a1b050000-7f0a1b400000 ---p 00000000 00:00 0 
7f0a1b400000-7f0a1b410000 rw-p 00000000 00:00 0 
7f0a1b410000-7f0a1f000000 ---p 00000000 00:00 0 
7f0a1f000000-7f0a1fbc7000 rw-p 00001000 fe:00 328258                     /usr/lib/jvm/java-17-openjdk-amd64/lib/server/classes.jsa
7f0a1fbc7000-7f0a20000000 ---p 00000000 00:00 0 
7f0a20000000-7f0a20010000 rw-p 00000000 00:00 0 
7f0a20010000-7f0a20040000 ---p 00000000 00:00 0 
7f0a20040000-7f0a20050000 rw-p 00000000 00:00 0 
7f0a20050000-7f0a60000000 ---p 00000000 00:00 0 
7f0a60000000-7f0a60021000 rw-p 00000000 00:00 0 
7f0a60021000-7f0a64000000 ---p 00000000 00:00 0 
7f0a64000000-7f0a64021000 rw-p 00000000 00:00 0 
7f0a64021000-7f0a68000000 ---p 00000000 00:00 0 
7f0a68000000-7f0a68021000 rw-p 00000000 00:00 0 
7f0a68021000-7f0a6c000000 ---p 00000000 00:00 0 
7f0a6d100000-7f0a6d104000 ---p 00000000 00:00 0 
7f0a6d104000-7f0a6d200000 rw-p 00000000 00:00 0 
7f0a6d200000-7f0a6d204000 ---p 00000000 00:00 0 
7f0a6d204000-7f0a6d300000 rw-p 00000000 00:00 0 
7f0a6d300000-7f0a6d304000 ---p 00000000 00:00 0 
7f0a6d304000-7f0a6d400000 rw-p 00000000 00:00 0 
7f0a6d400000-7f0a6d404000 ---p 00000000 00:00 0 
7f0a6d404000-7f0a6d500000 rw-p 00000000 00:00 0 
7f0a6d500000-7f0a6d504000 ---p 00000000 00:00 0 
7f0a6d504000-7f0a6d600000 rw-p 00000000 00:00 0 
7f0a6d600000-7f0a6d604000 ---p 00000000 00:00 0 
7f0a6d604000-7f0a6d700000 rw-p 00000000 00:00 0 
7f0a6d700000-7f0a6d704000 ---p 00000000 00:00 0 
7f0a6d704000-7f0a6d800000 rw-p 00000000 00:00 0 
7f0a6d800000-7f0a6d804000 ---p 00000000 00:00 0 
7f0a6d804000-7f0a6d900000 rw-p 00000000 00:00 0 
7f0a6d900000-7f0a6d904000 ---p 00000000 00:00 0 
7f0a6d904000-7f0a6da00000 rw-p 00000000 00:00 0 
7f0a6da00000-7f0a6da04000 ---p 00000000 00:00 0 
7f0a6da04000-7f0a6db00000 rw-p 00000000 00:00 0 
7f0a6db00000-7f0a6db04000 ---p 00000000 00:00 0 
7f0a6db04000-7f0a6dc00000 rw-p 00000000 00:00 0 
7f0a6dc00000-7f0a6dc04000 ---p 00000000 00:00 0 
7f0a6dc04000-7f0a6dd00000 rw-p 00000000 00:00 0 
7f0a6dd00000-7f0a6dd04000 ---p 00000000 00:00 0 
7f0a6dd04000-7f0a6de00000 rw-p 00000000 00:00 0 
7f0a6de00000-7f0a6de04000 ---p 00000000 00:00 0 
7f0a6de04000-7f0a6df00000 rw-p 00000000 00:00 0 
7f0a6df00000-7f0a6df04000 ---p 00000000 00:00 0 
7f0a6df04000-7f0a6e000000 rw-p 00000000 00:00 0 
7f0a6e000000-7f0a70000000 rw-p 00000000 00:00 0 
7f0a70000000-7f0a70021000 rw-p 00000000 00:00 0 
7f0a70021000-7f0a74000000 ---p 00000000 00:00 0 
7f0a74000000-7f0a74021000 rw-p 00000000 00:00 0 
7f0a74021000-7f0a78000000 ---p 00000000 00:00 0 
7f0a78000000-7f0a78021000 rw-p 00000000 00:00 0 
7f0a78021000-7f0a7c000000 ---p 00000000 00:00 0 
7f0a7c0f5000-7f0a7c0f9000 ---p 00000000 00:00 0 
7f0a7c0f9000-7f0a7c1f5000 rw-p 00000000 00:00 0 
7f0a7c1f5000-7f0a7c1f9000 ---p 00000000 00:00 0 
7f0a7c1f9000-7f0a7c2f5000 rw-p 00000000 00:00 0 
7f0a7c2f5000-7f0a7c2f9000 ---p 00000000 00:00 0 
7f0a7c2f9000-7f0a7c3f5000 rw-p 00000000 00:00 0 
7f0a7c3f5000-7f0a7c3f9000 ---p 00000000 00:00 0 
7f0a7c3f9000-7f0a7c4f5000 rw-p 00000000 00:00 0 
7f0a7c4f5000-7f0a7c4f9000 ---p 00000000 00:00 0 
7f0a7c4f9000-7f0a7c5f5000 rw-p 00000000 00:00 0 
7f0a7c5f5000-7f0a7c5f9000 ---p 00000000 00:00 0 
7f0a7c5f9000-7f0a7c6f5000 rw-p 00000000 00:00 0 
7f0a7c6f5000-7f0a7c6f9000 ---p 00000000 00:00 0 
7f0a7c6f9000-7f0a7c7f5000 rw-p 00000000 00:00 0 
7f0a7c7f5000-7f0a7c7f9000 ---p 00000000 00:00 0 
7f0a7c7f9000-7f0a7c8f5000 rw-p 00000000 00:00 0 
7f0a7c8f5000-7f0a7c8f9000 ---p 00000000 00:00 0 
7f0a7c8f9000-7f0a7c9f5000 rw-p 00000000 00:00 0 
7f0a7c9f5000-7f0a7c9f9000 ---p 00000000 00:00 0 
7f0a7c9f9000-7f0a7caf5000 rw-p 00000000 00:00 0 
7f0a7caf5000-7f0a7caf6000 ---p 00000000 00:00 0 
7f0a7caf6000-7f0a7cbf6000 rw-p 00000000 00:00 0 
7f0a7cbf6000-7f0a7cbfa000 ---p 00000000 00:00 0 
7f0a7cbfa000-7f0a7ccf6000 rw-p 00000000 00:00 0 
7f0a7ccf6000-7f0a7ccfa000 ---p 00000000 00:00 0 
7f0a7ccfa000-7f0a7cdf6000 rw-p 00000000 00:00 0 
7f0a7cdf6000-7f0a7cdfa000 ---p 00000000 00:00 0 
7f0a7cdfa000-7f0a7cef6000 rw-p 00000000 00:00 0 
7f0a7cef6000-7f0a7cefa000 ---p 00000000 00:00 0 
7f0a7cefa000-7f0a7cff6000 rw-p 00000000 00:00 0 
7f0a7cff6000-7f0a7cffa000 ---p 00000000 00:00 0 
7f0a7cffa000-7f0a7d0f6000 rw-p 00000000 00:00 0 
7f0a7d0f6000-7f0a7d0fa000 ---p 00000000 00:00 0 
7f0a7d0fa000-7f0a7d1f6000 rw-p 00000000 00:00 0 
7f0a7d1f6000-7f0a7d1fa000 ---p 00000000 00:00 0 
7f0a7d1fa000-7f0a7d2f6000 rw-p 00000000 00:00 0 
7f0a7d2f6000-7f0a7d34d000 r--p 00000000 fe:00 329635                     /usr/lib/locale/C.utf8/LC_CTYPE
7f0a7d34d000-7f0a7d351000 ---p 00000000 00:00 0 
7f0a7d351000-7f0a7d44d000 rw-p 00000000 00:00 0 
7f0a7d44d000-7f0a7d451000 ---p 00000000 00:00 0 
7f0a7d451000-7f0a7d54d000 rw-p 00000000 00:00 0 
7f0a7d54d000-7f0a7d54e000 ---p 00000000 00:00 0 
7f0a7d54e000-7f0a7d64e000 rw-p 00000000 00:00 0 
7f0a7d64e000-7f0a7d653000 r--p 00000000 fe:00 328233                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjsvml.so
7f0a7d653000-7f0a7d694000 r-xp 00005000 fe:00 328233                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjsvml.so
7f0a7d694000-7f0a7d71d000 r--p 00046000 fe:00 328233                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjsvml.so
7f0a7d71d000-7f0a7d71e000 r--p 000ce000 fe:00 328233                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjsvml.so
7f0a7d71e000-7f0a7d71f000 rw-p 000cf000 fe:00 328233                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjsvml.so
7f0a7d71f000-7f0a7dd90000 rw-p 00000000 00:00 0 
7f0a7dd90000-7f0a835b0000 ---p 00000000 00:00 0 
7f0a835b0000-7f0a83bc0000 rw-p 00000000 00:00 0 
7f0a83bc0000-7f0a893e0000 ---p 00000000 00:00 0 
7f0a893e0000-7f0a89400000 rw-p 00000000 00:00 0 
7f0a89400000-7f0a89670000 rwxp 00000000 00:00 0 
7f0a89670000-7f0a90938000 ---p 00000000 00:00 0 
7f0a90938000-7f0a90ba8000 rwxp 00000000 00:00 0 
7f0a90ba8000-7f0a90ec7000 ---p 00000000 00:00 0 
7f0a90ec7000-7f0a91137000 rwxp 00000000 00:00 0 
7f0a91137000-7f0a98400000 ---p 00000000 00:00 0 
7f0a98400000-7f0a9feb2000 r--s 00000000 fe:00 328249                     /usr/lib/jvm/java-17-openjdk-amd64/lib/modules
7f0a9feff000-7f0a9ff00000 ---p 00000000 00:00 0 
7f0a9ff00000-7f0aa0000000 rw-p 00000000 00:00 0 
7f0aa0000000-7f0aa0145000 rw-p 00000000 00:00 0 
7f0aa0145000-7f0aa4000000 ---p 00000000 00:00 0 
7f0aa4003000-7f0aa40d0000 rw-p 00000000 00:00 0 
7f0aa40d0000-7f0aa40d1000 ---p 00000000 00:00 0 
7f0aa40d1000-7f0aa41d1000 rw-p 00000000 00:00 0 
7f0aa41d1000-7f0aa43d3000 rw-p 00000000 00:00 0 
7f0aa43d3000-7f0aa43d4000 ---p 00000000 00:00 0 
7f0aa43d4000-7f0aa44d4000 rw-p 00000000 00:00 0 
7f0aa44d4000-7f0aa44d5000 ---p 00000000 00:00 0 
7f0aa44d5000-7f0aa45d5000 rw-p 00000000 00:00 0 
7f0aa45d5000-7f0aa45d6000 ---p 00000000 00:00 0 
7f0aa45d6000-7f0aa46d6000 rw-p 00000000 00:00 0 
7f0aa46d6000-7f0aa4794000 rw-p 00000000 00:00 0 
7f0aa4794000-7f0aa5298000 ---p 00000000 00:00 0 
7f0aa5298000-7f0aa535a000 rw-p 00000000 00:00 0 
7f0aa535a000-7f0aa5e5e000 ---p 00000000 00:00 0 
7f0aa5e5e000-7f0aa5f20000 rw-p 00000000 00:00 0 
7f0aa5f20000-7f0aa6a24000 ---p 00000000 00:00 0 
7f0aa6a24000-7f0aa6c2f000 rw-p 00000000 00:00 0 
7f0aa6c2f000-7f0aa6d15000 ---p 00000000 00:00 0 
7f0aa6d15000-7f0aa6d1a000 rw-p 00000000 00:00 0 
7f0aa6d1a000-7f0aa6e00000 ---p 00000000 00:00 0 
7f0aa6e00000-7f0aa6e99000 r--p 00000000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f0aa6e99000-7f0aa6f9a000 r-xp 00099000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f0aa6f9a000-7f0aa7009000 r--p 0019a000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f0aa7009000-7f0aa7014000 r--p 00209000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f0aa7014000-7f0aa7017000 rw-p 00214000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f0aa7017000-7f0aa701a000 rw-p 00000000 00:00 0 
7f0aa7040000-7f0aa7044000 r--p 00000000 fe:00 328239                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnet.so
7f0aa7044000-7f0aa7052000 r-xp 00004000 fe:00 328239                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnet.so
7f0aa7052000-7f0aa7056000 r--p 00012000 fe:00 328239                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnet.so
7f0aa7056000-7f0aa7057000 r--p 00015000 fe:00 328239                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnet.so
7f0aa7057000-7f0aa7058000 rw-p 00016000 fe:00 328239                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnet.so
7f0aa7058000-7f0aa705e000 r--p 00000000 fe:00 328240                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnio.so
7f0aa705e000-7f0aa7067000 r-xp 00006000 fe:00 328240                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnio.so
7f0aa7067000-7f0aa706b000 r--p 0000f000 fe:00 328240                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnio.so
7f0aa706b000-7f0aa706c000 r--p 00013000 fe:00 328240                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnio.so
7f0aa706c000-7f0aa706d000 rw-p 00014000 fe:00 328240                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libnio.so
7f0aa706d000-7f0aa7100000 rw-p 00000000 00:00 0 
7f0aa7100000-7f0aa7104000 ---p 00000000 00:00 0 
7f0aa7104000-7f0aa7200000 rw-p 00000000 00:00 0 
7f0aa7200000-7f0aa7451000 r--p 00000000 fe:00 328261                     /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so
7f0aa7451000-7f0aa81a4000 r-xp 00251000 fe:00 328261                     /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so
7f0aa81a4000-7f0aa8425000 r--p 00fa4000 fe:00 328261                     /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so
7f0aa8425000-7f0aa84dd000 r--p 01225000 fe:00 328261                     /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so
7f0aa84dd000-7f0aa8512000 rw-p 012dd000 fe:00 328261                     /usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so
7f0aa8512000-7f0aa856c000 rw-p 00000000 00:00 0 
7f0aa856d000-7f0aa856e000 r--p 00000000 fe:00 329642                     /usr/lib/locale/C.utf8/LC_NUMERIC
7f0aa856e000-7f0aa856f000 r--p 00000000 fe:00 329645                     /usr/lib/locale/C.utf8/LC_TIME
7f0aa856f000-7f0aa8570000 r--p 00000000 fe:00 329634                     /usr/lib/locale/C.utf8/LC_COLLATE
7f0aa8570000-7f0aa8571000 r--p 00000000 fe:00 329640                     /usr/lib/locale/C.utf8/LC_MONETARY
7f0aa8571000-7f0aa8572000 r--p 00000000 fe:00 329639                     /usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES
7f0aa8572000-7f0aa8573000 r--p 00000000 fe:00 329643                     /usr/lib/locale/C.utf8/LC_PAPER
7f0aa8573000-7f0aa8574000 r--p 00000000 fe:00 329641                     /usr/lib/locale/C.utf8/LC_NAME
7f0aa8574000-7f0aa8575000 r--p 00000000 fe:00 329633                     /usr/lib/locale/C.utf8/LC_ADDRESS
7f0aa8575000-7f0aa8576000 r--p 00000000 fe:00 329644                     /usr/lib/locale/C.utf8/LC_TELEPHONE
7f0aa8576000-7f0aa8577000 r--p 00000000 fe:00 329637                     /usr/lib/locale/C.utf8/LC_MEASUREMENT
7f0aa8577000-7f0aa857e000 r--s 00000000 fe:00 338846                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache
7f0aa857e000-7f0aa857f000 r--p 00000000 fe:00 329636                     /usr/lib/locale/C.utf8/LC_IDENTIFICATION
7f0aa857f000-7f0aa8584000 rw-p 00000000 00:00 0 
7f0aa8584000-7f0aa858b000 ---p 00000000 00:00 0 
7f0aa858b000-7f0aa8597000 r--p 00000000 fe:00 328225                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so
7f0aa8597000-7f0aa85a8000 r-xp 0000c000 fe:00 328225                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so
7f0aa85a8000-7f0aa85ae000 r--p 0001d000 fe:00 328225                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so
7f0aa85ae000-7f0aa85af000 r--p 00022000 fe:00 328225                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so
7f0aa85af000-7f0aa85b0000 rw-p 00023000 fe:00 328225                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjava.so
7f0aa85b0000-7f0aa85b1000 rw-p 00000000 00:00 0 
7f0aa85b1000-7f0aa85b9000 rw-s 00000000 fe:00 2154497                    /tmp/hsperfdata_root/7406
7f0aa85b9000-7f0aa85ba000 ---p 00000000 00:00 0 
7f0aa85ba000-7f0aa85bb000 r--p 00000000 00:00 0 
7f0aa85bb000-7f0aa85be000 r--p 00000000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f0aa85be000-7f0aa85d5000 r-xp 00003000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f0aa85d5000-7f0aa85d9000 r--p 0001a000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f0aa85d9000-7f0aa85da000 r--p 0001d000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f0aa85da000-7f0aa85db000 rw-p 0001e000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f0aa85db000-7f0aa85eb000 r--p 00000000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f0aa85eb000-7f0aa865f000 r-xp 00010000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f0aa865f000-7f0aa86b9000 r--p 00084000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f0aa86b9000-7f0aa86ba000 r--p 000dd000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f0aa86ba000-7f0aa86bb000 rw-p 000de000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f0aa86bb000-7f0aa86bd000 rw-p 00000000 00:00 0 
7f0aa86bd000-7f0aa86e3000 r--p 00000000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0aa86e3000-7f0aa8839000 r-xp 00026000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0aa8839000-7f0aa888c000 r--p 0017c000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0aa888c000-7f0aa8890000 r--p 001cf000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0aa8890000-7f0aa8892000 rw-p 001d3000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f0aa8892000-7f0aa889f000 rw-p 00000000 00:00 0 
7f0aa889f000-7f0aa88a1000 r--p 00000000 fe:00 328230                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjli.so
7f0aa88a1000-7f0aa88aa000 r-xp 00002000 fe:00 328230                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjli.so
7f0aa88aa000-7f0aa88ad000 r--p 0000b000 fe:00 328230                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjli.so
7f0aa88ad000-7f0aa88ae000 r--p 0000d000 fe:00 328230                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjli.so
7f0aa88ae000-7f0aa88af000 rw-p 0000e000 fe:00 328230                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjli.so
7f0aa88af000-7f0aa88b2000 r--p 00000000 fe:00 340072                     /usr/lib/x86_64-linux-gnu/libz.so.1.2.13
7f0aa88b2000-7f0aa88c5000 r-xp 00003000 fe:00 340072                     /usr/lib/x86_64-linux-gnu/libz.so.1.2.13
7f0aa88c5000-7f0aa88cc000 r--p 00016000 fe:00 340072                     /usr/lib/x86_64-linux-gnu/libz.so.1.2.13
7f0aa88cc000-7f0aa88cd000 r--p 0001c000 fe:00 340072                     /usr/lib/x86_64-linux-gnu/libz.so.1.2.13
7f0aa88cd000-7f0aa88ce000 rw-p 0001d000 fe:00 340072                     /usr/lib/x86_64-linux-gnu/libz.so.1.2.13
7f0aa88ce000-7f0aa88cf000 ---p 00000000 00:00 0 
7f0aa88cf000-7f0aa88d1000 r--p 00000000 fe:00 328229                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjimage.so
7f0aa88d1000-7f0aa88d4000 r-xp 00002000 fe:00 328229                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjimage.so
7f0aa88d4000-7f0aa88d5000 r--p 00005000 fe:00 328229                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjimage.so
7f0aa88d5000-7f0aa88d6000 r--p 00006000 fe:00 328229                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjimage.so
7f0aa88d6000-7f0aa88d7000 rw-p 00007000 fe:00 328229                     /usr/lib/jvm/java-17-openjdk-amd64/lib/libjimage.so
7f0aa88d7000-7f0aa88d9000 rw-p 00000000 00:00 0 
7f0aa88d9000-7f0aa88dd000 r--p 00000000 00:00 0                          [vvar]
7f0aa88dd000-7f0aa88df000 r--p 00000000 00:00 0                          [vvar_vclock]
7f0aa88df000-7f0aa88e1000 r-xp 00000000 00:00 0                          [vdso]
7f0aa88e1000-7f0aa88e2000 r--p 00000000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f0aa88e2000-7f0aa8908000 r-xp 00001000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f0aa8908000-7f0aa8912000 r--p 00027000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f0aa8912000-7f0aa8914000 r--p 00031000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f0aa8914000-7f0aa8916000 rw-p 00033000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7ffd91721000-7ffd91742000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
`;
