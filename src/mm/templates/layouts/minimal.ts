/**
 * The real /proc/PID/maps the `minimal` template is modelled on: /usr/bin/cat (the shared fixture /work/shared/fixtures/real-maps/cat.maps).
 * Captured on Linux 6.18 x86-64 (also test/fixtures/real-maps/cat.maps); the template relocates its
 * regions as ASLR would (relocate.ts), so only the shape is taken from here.
 */
export const MINIMAL_LAYOUT = `56129ed1d000-56129ed1f000 r--p 00000000 fe:00 260131                     /usr/bin/cat
56129ed1f000-56129ed24000 r-xp 00002000 fe:00 260131                     /usr/bin/cat
56129ed24000-56129ed27000 r--p 00007000 fe:00 260131                     /usr/bin/cat
56129ed27000-56129ed28000 r--p 00009000 fe:00 260131                     /usr/bin/cat
56129ed28000-56129ed29000 rw-p 0000a000 fe:00 260131                     /usr/bin/cat
5612d36b3000-5612d36d4000 rw-p 00000000 00:00 0                          [heap]
7f7cb0f6f000-7f7cb0f91000 rw-p 00000000 00:00 0 
7f7cb0f91000-7f7cb0fe8000 r--p 00000000 fe:00 329635                     /usr/lib/locale/C.utf8/LC_CTYPE
7f7cb0fe8000-7f7cb0fe9000 r--p 00000000 fe:00 329642                     /usr/lib/locale/C.utf8/LC_NUMERIC
7f7cb0fe9000-7f7cb0fea000 r--p 00000000 fe:00 329645                     /usr/lib/locale/C.utf8/LC_TIME
7f7cb0fea000-7f7cb0feb000 r--p 00000000 fe:00 329634                     /usr/lib/locale/C.utf8/LC_COLLATE
7f7cb0feb000-7f7cb0fec000 r--p 00000000 fe:00 329640                     /usr/lib/locale/C.utf8/LC_MONETARY
7f7cb0fec000-7f7cb0fed000 r--p 00000000 fe:00 329639                     /usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES
7f7cb0fed000-7f7cb0fee000 r--p 00000000 fe:00 329643                     /usr/lib/locale/C.utf8/LC_PAPER
7f7cb0fee000-7f7cb0fef000 r--p 00000000 fe:00 329641                     /usr/lib/locale/C.utf8/LC_NAME
7f7cb0fef000-7f7cb0ff0000 r--p 00000000 fe:00 329633                     /usr/lib/locale/C.utf8/LC_ADDRESS
7f7cb0ff0000-7f7cb0ff1000 r--p 00000000 fe:00 329644                     /usr/lib/locale/C.utf8/LC_TELEPHONE
7f7cb0ff1000-7f7cb0ff4000 rw-p 00000000 00:00 0 
7f7cb0ff4000-7f7cb101a000 r--p 00000000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f7cb101a000-7f7cb1170000 r-xp 00026000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f7cb1170000-7f7cb11c3000 r--p 0017c000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f7cb11c3000-7f7cb11c7000 r--p 001cf000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f7cb11c7000-7f7cb11c9000 rw-p 001d3000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f7cb11c9000-7f7cb11d6000 rw-p 00000000 00:00 0 
7f7cb11d6000-7f7cb11d7000 r--p 00000000 fe:00 329637                     /usr/lib/locale/C.utf8/LC_MEASUREMENT
7f7cb11d7000-7f7cb11de000 r--s 00000000 fe:00 338846                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache
7f7cb11de000-7f7cb11df000 r--p 00000000 fe:00 329636                     /usr/lib/locale/C.utf8/LC_IDENTIFICATION
7f7cb11df000-7f7cb11e1000 rw-p 00000000 00:00 0 
7f7cb11e1000-7f7cb11e5000 r--p 00000000 00:00 0                          [vvar]
7f7cb11e5000-7f7cb11e7000 r--p 00000000 00:00 0                          [vvar_vclock]
7f7cb11e7000-7f7cb11e9000 r-xp 00000000 00:00 0                          [vdso]
7f7cb11e9000-7f7cb11ea000 r--p 00000000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f7cb11ea000-7f7cb1210000 r-xp 00001000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f7cb1210000-7f7cb121a000 r--p 00027000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f7cb121a000-7f7cb121c000 r--p 00031000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f7cb121c000-7f7cb121e000 rw-p 00033000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7ffd65f61000-7ffd65f82000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
`;
