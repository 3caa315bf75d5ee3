/**
 * The real /proc/PID/maps the `node` template is modelled on: node v20.20.2 on this host.
 * Captured on Linux 6.18 x86-64 (also test/fixtures/real-maps/node-host.maps); the template relocates its
 * regions as ASLR would (relocate.ts), so only the shape is taken from here.
 */
export const NODE_LAYOUT = `00400000-00b6f000 r--p 00000000 fe:00 260689                             /usr/bin/node
00b6f000-00b71000 r-xp 0076f000 fe:00 260689                             /usr/bin/node
00b72000-025fe000 r-xp 00772000 fe:00 260689                             /usr/bin/node
02600000-02601000 r-xp 02200000 fe:00 260689                             /usr/bin/node
02601000-0563a000 r--p 02201000 fe:00 260689                             /usr/bin/node
0563a000-0563e000 r--p 05239000 fe:00 260689                             /usr/bin/node
0563e000-0565d000 rw-p 0523d000 fe:00 260689                             /usr/bin/node
0565d000-05689000 rw-p 00000000 00:00 0 
06eb8000-0717b000 rw-p 00000000 00:00 0                                  [heap]
2e1bb940000-2e1bb980000 rw-p 00000000 00:00 0 
33b92280000-33b922c0000 rw-p 00000000 00:00 0 
4e9aab80000-4e9aabc0000 rw-p 00000000 00:00 0 
10ee14c80000-10ee14cc0000 rw-p 00000000 00:00 0 
128bc3580000-128bc35b8000 rw-p 00000000 00:00 0 
13b99bd00000-13b99bd42000 rw-p 00000000 00:00 0 
1449d7400000-1449d7440000 rw-p 00000000 00:00 0 
1a3e69d00000-1a3e69d40000 rw-p 00000000 00:00 0 
1ab263240000-1ab263280000 rw-p 00000000 00:00 0 
1bcb11040000-1bcb1104d000 r--p 00000000 00:00 0 
23904a8c0000-23904a900000 rw-p 00000000 00:00 0 
2697c59c0000-2697c5a00000 rw-p 00000000 00:00 0 
2a4259f40000-2a4259f80000 rw-p 00000000 00:00 0 
2b4e48400000-2b4e48440000 rw-p 00000000 00:00 0 
331b9d380000-331b9d3c0000 rw-p 00000000 00:00 0 
36ec31840000-36ec31880000 rw-p 00000000 00:00 0 
3f3573980000-3f35739c0000 rw-p 00000000 00:00 0 
7f205a7c0000-7f205a7c2000 rw-p 00000000 00:00 0 
7f205a7c2000-7f205a7c3000 ---p 00000000 00:00 0 
7f205a7c3000-7f205a7ff000 rwxp 00000000 00:00 0 
7f205a7ff000-7f207a600000 ---p 00000000 00:00 0 
7f207a600000-7f207a792000 r-xp 014c4000 fe:00 260689                     /usr/bin/node
7f207a792000-7f207a7c0000 ---p 00000000 00:00 0 
7f207a7fd000-7f207a7fe000 ---p 00000000 00:00 0 
7f207a7fe000-7f207affe000 rw-p 00000000 00:00 0 
7f207affe000-7f207afff000 ---p 00000000 00:00 0 
7f207afff000-7f207b7ff000 rw-p 00000000 00:00 0 
7f207b7ff000-7f207b800000 ---p 00000000 00:00 0 
7f207b800000-7f207c000000 rw-p 00000000 00:00 0 
7f207c000000-7f207c021000 rw-p 00000000 00:00 0 
7f207c021000-7f2080000000 ---p 00000000 00:00 0 
7f20802bc000-7f20802c0000 rw-p 00000000 00:00 0 
7f20802c0000-7f208033c000 ---p 00000000 00:00 0 
7f208033c000-7f208033d000 ---p 00000000 00:00 0 
7f208033d000-7f2080b3d000 rw-p 00000000 00:00 0 
7f2080b3d000-7f2080b3e000 ---p 00000000 00:00 0 
7f2080b3e000-7f208133e000 rw-p 00000000 00:00 0 
7f208133e000-7f2081364000 r--p 00000000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f2081364000-7f20814ba000 r-xp 00026000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f20814ba000-7f208150d000 r--p 0017c000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f208150d000-7f2081511000 r--p 001cf000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f2081511000-7f2081513000 rw-p 001d3000 fe:00 339380                     /usr/lib/x86_64-linux-gnu/libc.so.6
7f2081513000-7f2081520000 rw-p 00000000 00:00 0 
7f2081520000-7f2081530000 r--p 00000000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f2081530000-7f20815a4000 r-xp 00010000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f20815a4000-7f20815fe000 r--p 00084000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f20815fe000-7f20815ff000 r--p 000dd000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f20815ff000-7f2081600000 rw-p 000de000 fe:00 339704                     /usr/lib/x86_64-linux-gnu/libm.so.6
7f2081600000-7f2081699000 r--p 00000000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f2081699000-7f208179a000 r-xp 00099000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f208179a000-7f2081809000 r--p 0019a000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f2081809000-7f2081814000 r--p 00209000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f2081814000-7f2081817000 rw-p 00214000 fe:00 339903                     /usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30
7f2081817000-7f208181a000 rw-p 00000000 00:00 0 
7f2081832000-7f2081859000 rw-p 00000000 00:00 0 
7f2081859000-7f208185a000 r--p 00000000 fe:00 339845                     /usr/lib/x86_64-linux-gnu/libpthread.so.0
7f208185a000-7f208185b000 r-xp 00001000 fe:00 339845                     /usr/lib/x86_64-linux-gnu/libpthread.so.0
7f208185b000-7f208185c000 r--p 00002000 fe:00 339845                     /usr/lib/x86_64-linux-gnu/libpthread.so.0
7f208185c000-7f208185d000 r--p 00002000 fe:00 339845                     /usr/lib/x86_64-linux-gnu/libpthread.so.0
7f208185d000-7f208185e000 rw-p 00003000 fe:00 339845                     /usr/lib/x86_64-linux-gnu/libpthread.so.0
7f208185e000-7f2081861000 r--p 00000000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f2081861000-7f2081878000 r-xp 00003000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f2081878000-7f208187c000 r--p 0001a000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f208187c000-7f208187d000 r--p 0001d000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f208187d000-7f208187e000 rw-p 0001e000 fe:00 339525                     /usr/lib/x86_64-linux-gnu/libgcc_s.so.1
7f208187e000-7f208187f000 r--p 00000000 fe:00 339442                     /usr/lib/x86_64-linux-gnu/libdl.so.2
7f208187f000-7f2081880000 r-xp 00001000 fe:00 339442                     /usr/lib/x86_64-linux-gnu/libdl.so.2
7f2081880000-7f2081881000 r--p 00002000 fe:00 339442                     /usr/lib/x86_64-linux-gnu/libdl.so.2
7f2081881000-7f2081882000 r--p 00002000 fe:00 339442                     /usr/lib/x86_64-linux-gnu/libdl.so.2
7f2081882000-7f2081883000 rw-p 00003000 fe:00 339442                     /usr/lib/x86_64-linux-gnu/libdl.so.2
7f2081883000-7f2081884000 ---p 00000000 00:00 0 
7f2081884000-7f208188c000 rw-p 00000000 00:00 0 
7f208188c000-7f208188e000 rw-p 00000000 00:00 0 
7f208188e000-7f2081892000 r--p 00000000 00:00 0                          [vvar]
7f2081892000-7f2081894000 r--p 00000000 00:00 0                          [vvar_vclock]
7f2081894000-7f2081896000 r-xp 00000000 00:00 0                          [vdso]
7f2081896000-7f2081897000 r--p 00000000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f2081897000-7f20818bd000 r-xp 00001000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f20818bd000-7f20818c7000 r--p 00027000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f20818c7000-7f20818c9000 r--p 00031000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7f20818c9000-7f20818cb000 rw-p 00033000 fe:00 338944                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
7fff857e6000-7fff85807000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
`;
