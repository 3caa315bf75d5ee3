/**
 * The real /proc/PID/maps the `bash` template is modelled on: bash 5.2 on this host (Debian 12).
 * Captured on Linux 6.18 x86-64 (also test/fixtures/real-maps/bash-host.maps); the template relocates its
 * regions as ASLR would (relocate.ts), so only the shape is taken from here.
 */
export const BASH_LAYOUT = `55bd669c9000-55bd669f8000 r--p 00000000 fe:00 260104                     /usr/bin/bash
55bd669f8000-55bd66ab9000 r-xp 0002f000 fe:00 260104                     /usr/bin/bash
55bd66ab9000-55bd66af1000 r--p 000f0000 fe:00 260104                     /usr/bin/bash
55bd66af1000-55bd66af5000 r--p 00128000 fe:00 260104                     /usr/bin/bash
55bd66af5000-55bd66afe000 rw-p 0012c000 fe:00 260104                     /usr/bin/bash
55bd66afe000-55bd66b09000 rw-p 00000000 00:00 0 
55bd66eef000-55bd66f10000 rw-p 00000000 00:00 0                          [heap]
7f3321189000-7f33211e0000 r--p 00000000 fe:00 329635                     /usr/lib/locale/C.utf8/LC_CTYPE
7f33211e0000-7f33211e1000 r--p 00000000 fe:00 329642                     /usr/lib/locale/C.utf8/LC_NUMERIC
7f33211e1000-7f33211e2000 r--p 00000000 fe:00 329645                     /usr/lib/locale/C.utf8/LC_TIME
7f33211e2000-7f33211e3000 r--p 00000000 fe:00 329634                     /usr/lib/locale/C.utf8/LC_COLLATE
7f33211e3000-7f33211e4000 r--p 00000000 fe:00 329640                     /usr/lib/locale/C.utf8/LC_MONETARY
7f33211e4000-7f33211e5000 r--p 00000000 fe:00 329639                     /usr/lib/locale/C.utf8/LC_MESSAGES/SYS_LC_MESSAGES
7f33211e5000-7f33211e6000 r--p 00000000 fe:00 329643                     /usr/lib/locale/C.utf8/LC_PAPER
7f33211e6000-7f33211e7000 r--p 00000000 fe:00 329641                     /usr/lib/locale/C.utf8/LC_NAME
7f33211e7000-7f33211e8000 r--p 00000000 fe:00 329633                     /usr/lib/locale/C.utf8/LC_ADDRESS
7f33211e8000-7f33211e9000 r--p 00000000 fe:00 329644                     /usr/lib/locale/C.utf8/LC_TELEPHONE
7f33211e9000-7f33211ec000 rw-p 00000000 00:00 0 
7f33211ec000-7f3321212000 r--p 00000000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f3321212000-7f3321368000 r-xp 00026000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f3321368000-7f33213bb000 r--p 0017c000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f33213bb000-7f33213bf000 r--p 001cf000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f33213bf000-7f33213c1000 rw-p 001d3000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f33213c1000-7f33213ce000 rw-p 00000000 00:00 0 
7f33213ce000-7f33213dd000 r--p 00000000 fe:00 339934                     /usr/lib/x86_64-linux-gnu/libtinfo.so.6.4
7f33213dd000-7f33213ee000 r-xp 0000f000 fe:00 339934                     /usr/lib/x86_64-linux-gnu/libtinfo.so.6.4
7f33213ee000-7f33213fc000 r--p 00020000 fe:00 339934                     /usr/lib/x86_64-linux-gnu/libtinfo.so.6.4
7f33213fc000-7f3321400000 r--p 0002d000 fe:00 339934                     /usr/lib/x86_64-linux-gnu/libtinfo.so.6.4
7f3321400000-7f3321401000 rw-p 00031000 fe:00 339934                     /usr/lib/x86_64-linux-gnu/libtinfo.so.6.4
7f3321401000-7f3321402000 r--p 00000000 fe:00 329637                     /usr/lib/locale/C.utf8/LC_MEASUREMENT
7f3321402000-7f3321409000 r--s 00000000 fe:00 338846                     /usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache
7f3321409000-7f332140a000 r--p 00000000 fe:00 329636                     /usr/lib/locale/C.utf8/LC_IDENTIFICATION
7f332140a000-7f332140c000 rw-p 00000000 00:00 0 
7f332140c000-7f3321410000 r--p 00000000 00:00 0                          [vvar]
7f3321410000-7f3321412000 r--p 00000000 00:00 0                          [vvar_vclock]
7f3321412000-7f3321414000 r-xp 00000000 00:00 0                          [vdso]
7f3321414000-7f3321415000 r--p 00000000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f3321415000-7f332143b000 r-xp 00001000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f332143b000-7f3321445000 r--p 00027000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f3321445000-7f3321447000 r--p 00031000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f3321447000-7f3321449000 rw-p 00033000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7ffd1d672000-7ffd1d693000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
`;
