/**
 * Reference data for the synthetic Guangzhou: the 11 districts with their GB/T 2260 codes and
 * 2020 census resident populations, their streets (街道) and towns (镇) in a fixed priority order
 * (the first ones are taken when the city is small), real urban villages (城中村) attached to
 * their street, and name stems for synthesised communities, villages and roads.
 *
 * District and street names are real (the 176 streets and towns of 2020); which urban village
 * sits in which street is approximate; community, village and road names are synthesised.
 */

export interface StreetData {
  readonly zh: string;
  readonly en: string;
  /** 镇 (town) rather than 街道 (subdistrict): more rural villages, fewer urban villages. */
  readonly town?: boolean;
  /** Real urban villages in this street, [zh, en] (always 村). */
  readonly villages?: readonly (readonly [string, string])[];
}

export interface DistrictData {
  readonly code: string;
  readonly zh: string;
  readonly en: string;
  /** 2020 census resident population (millions). */
  readonly population: number;
  /** Share of the floating population (流动人口) among residents, planted. */
  readonly floatingShare: number;
  /** Chance that a synthesised community in a (non-town) street is an urban village. */
  readonly urbanVillageRate: number;
  readonly streets: readonly StreetData[];
}

const s = (zh: string, en: string, villages?: readonly (readonly [string, string])[]): StreetData => (villages ? { zh, en, villages } : { zh, en });
const town = (zh: string, en: string): StreetData => ({ zh, en, town: true });

export const DISTRICTS: readonly DistrictData[] = [
  {
    code: '440103', zh: '荔湾区', en: 'Liwan', population: 1.238, floatingShare: 0.27, urbanVillageRate: 0.08,
    streets: [
      s('茶滘', 'Chajiao', [['茶滘村', 'Chajiao Village']]), s('东漖', 'Dongjiao', [['西塱村', 'Xilang Village']]),
      s('海龙', 'Hailong', [['龙溪村', 'Longxi Village']]), s('冲口', 'Chongkou'), s('沙面', 'Shamian'), s('岭南', 'Lingnan'),
      s('华林', 'Hualin'), s('多宝', 'Duobao'), s('昌华', 'Changhua'), s('逢源', 'Fengyuan'), s('龙津', 'Longjin'),
      s('金花', 'Jinhua'), s('彩虹', 'Caihong'), s('南源', 'Nanyuan'), s('西村', 'Xicun'), s('站前', 'Zhanqian'),
      s('桥中', 'Qiaozhong'), s('白鹤洞', 'Baihedong'), s('花地', 'Huadi'), s('石围塘', 'Shiweitang'), s('东沙', 'Dongsha'),
      s('中南', 'Zhongnan'),
    ],
  },
  {
    code: '440104', zh: '越秀区', en: 'Yuexiu', population: 1.039, floatingShare: 0.22, urbanVillageRate: 0.03,
    streets: [
      s('北京', 'Beijing'), s('东山', 'Dongshan', [['杨箕村', 'Yangji Village']]), s('人民', 'Renmin'), s('洪桥', 'Hongqiao'),
      s('六榴', 'Liuliu'), s('流花', 'Liuhua'), s('光塔', 'Guangta'), s('农林', 'Nonglin'), s('梅花村', 'Meihuacun'),
      s('黄花岗', 'Huanghuagang'), s('华乐', 'Huale'), s('建设', 'Jianshe'), s('大塘', 'Datang'), s('珠光', 'Zhuguang'),
      s('大东', 'Dadong'), s('白云', 'Baiyun'), s('登峰', 'Dengfeng'), s('矿泉', 'Kuangquan'),
    ],
  },
  {
    code: '440105', zh: '海珠区', en: 'Haizhu', population: 1.818, floatingShare: 0.35, urbanVillageRate: 0.12,
    streets: [
      s('凤阳', 'Fengyang', [['康乐村', 'Kangle Village'], ['鹭江村', 'Lujiang Village']]), s('瑞宝', 'Ruibao', [['瑞宝村', 'Ruibao Village']]),
      s('南洲', 'Nanzhou', [['沥滘村', 'Lijiao Village']]), s('华洲', 'Huazhou', [['小洲村', 'Xiaozhou Village']]), s('赤岗', 'Chigang'),
      s('新港', 'Xingang'), s('昌岗', 'Changgang'), s('江南中', 'Jiangnanzhong'), s('滨江', 'Binjiang'), s('素社', 'Sushe'),
      s('海幢', 'Haichuang'), s('南华西', 'Nanhuaxi'), s('龙凤', 'Longfeng'), s('沙园', 'Shayuan'), s('南石头', 'Nanshitou'),
      s('江海', 'Jianghai'), s('琶洲', 'Pazhou'), s('官洲', 'Guanzhou'),
    ],
  },
  {
    code: '440106', zh: '天河区', en: 'Tianhe', population: 2.242, floatingShare: 0.42, urbanVillageRate: 0.12,
    streets: [
      s('石牌', 'Shipai', [['石牌村', 'Shipai Village']]), s('冼村', 'Xiancun', [['冼村', 'Xiancun Village']]),
      s('猎德', 'Liede', [['猎德村', 'Liede Village']]), s('棠下', 'Tangxia', [['棠下村', 'Tangxia Village']]),
      s('车陂', 'Chebei', [['车陂村', 'Chebei Village']]), s('员村', 'Yuancun', [['程界村', 'Chengjie Village']]),
      s('长兴', 'Changxing', [['岑村', 'Cencun Village']]), s('龙洞', 'Longdong', [['龙洞村', 'Longdong Village']]),
      s('黄村', 'Huangcun', [['黄村', 'Huangcun Village']]), s('沙河', 'Shahe'), s('五山', 'Wushan'), s('天河南', 'Tianhenan'),
      s('林和', 'Linhe'), s('凤凰', 'Fenghuang'), s('兴华', 'Xinghua'), s('天园', 'Tianyuan'), s('元岗', 'Yuangang'),
      s('珠吉', 'Zhuji'), s('新塘', 'Xintang'), s('前进', 'Qianjin'), s('沙东', 'Shadong'),
    ],
  },
  {
    code: '440111', zh: '白云区', en: 'Baiyun', population: 3.743, floatingShare: 0.50, urbanVillageRate: 0.16,
    streets: [
      s('三元里', 'Sanyuanli', [['三元里村', 'Sanyuanli Village']]), s('黄石', 'Huangshi', [['江夏村', 'Jiangxia Village']]),
      s('嘉禾', 'Jiahe', [['望岗村', 'Wanggang Village']]), s('新市', 'Xinshi', [['棠溪村', 'Tangxi Village']]),
      s('大源', 'Dayuan', [['大源村', 'Dayuan Village']]), s('京溪', 'Jingxi'), s('同和', 'Tonghe'), s('松洲', 'Songzhou'),
      s('景泰', 'Jingtai'), s('同德', 'Tongde'), s('棠景', 'Tangjing'), s('永平', 'Yongping'), s('金沙', 'Jinsha'),
      s('石井', 'Shijing'), s('均禾', 'Junhe'), s('鹤龙', 'Helong'), s('白云湖', 'Baiyunhu'), s('石门', 'Shimen'),
      s('云城', 'Yuncheng'), s('龙归', 'Longgui'), town('江高', 'Jianggao'), town('人和', 'Renhe'), town('太和', 'Taihe'),
      town('钟落潭', 'Zhongluotan'),
    ],
  },
  {
    code: '440112', zh: '黄埔区', en: 'Huangpu', population: 1.264, floatingShare: 0.38, urbanVillageRate: 0.10,
    streets: [
      s('文冲', 'Wenchong', [['文冲村', 'Wenchong Village']]), s('鱼珠', 'Yuzhu', [['茅岗村', 'Maogang Village']]), s('黄埔', 'Huangpu'),
      s('红山', 'Hongshan'), s('大沙', 'Dasha'), s('穗东', 'Suidong'), s('南岗', 'Nangang'), s('长洲', 'Changzhou'),
      s('夏港', 'Xiagang'), s('萝岗', 'Luogang'), s('联和', 'Lianhe'), s('永和', 'Yonghe'), s('东区', 'Dongqu'),
      s('云埔', 'Yunpu'), s('长岭', 'Changling'), s('九佛', 'Jiufo'), town('新龙', 'Xinlong'),
    ],
  },
  {
    code: '440113', zh: '番禺区', en: 'Panyu', population: 2.652, floatingShare: 0.40, urbanVillageRate: 0.12,
    streets: [
      s('洛浦', 'Luopu', [['厦滘村', 'Xiajiao Village']]), s('小谷围', 'Xiaoguwei', [['北亭村', 'Beiting Village'], ['贝岗村', 'Beigang Village']]),
      s('大石', 'Dashi', [['礼村', 'Licun Village']]), s('市桥', 'Shiqiao'), s('钟村', 'Zhongcun'), s('石壁', 'Shibi'),
      s('大龙', 'Dalong'), s('东环', 'Donghuan'), s('桥南', 'Qiaonan'), s('沙头', 'Shatou'), town('南村', 'Nancun'),
      town('新造', 'Xinzao'), town('化龙', 'Hualong'), town('石楼', 'Shilou'), town('沙湾', 'Shawan'), town('石碁', 'Shiji'),
    ],
  },
  {
    code: '440114', zh: '花都区', en: 'Huadu', population: 1.642, floatingShare: 0.33, urbanVillageRate: 0.06,
    streets: [
      s('新华', 'Xinhua'), s('新雅', 'Xinya'), s('秀全', 'Xiuquan'), s('花城', 'Huacheng'), town('狮岭', 'Shiling'),
      town('花东', 'Huadong'), town('花山', 'Huashan'), town('炭步', 'Tanbu'), town('赤坭', 'Chini'), town('梯面', 'Timian'),
    ],
  },
  {
    code: '440115', zh: '南沙区', en: 'Nansha', population: 0.847, floatingShare: 0.36, urbanVillageRate: 0.06,
    streets: [
      s('南沙', 'Nansha'), s('珠江', 'Zhujiang'), s('龙穴', 'Longxue'), town('黄阁', 'Huangge'), town('东涌', 'Dongchong'),
      town('大岗', 'Dagang'), town('榄核', 'Lanhe'), town('横沥', 'Hengli'), town('万顷沙', 'Wanqingsha'),
    ],
  },
  {
    code: '440117', zh: '从化区', en: 'Conghua', population: 0.718, floatingShare: 0.18, urbanVillageRate: 0.02,
    streets: [
      s('街口', 'Jiekou'), s('城郊', 'Chengjiao'), s('江埔', 'Jiangpu'), town('温泉', 'Wenquan'), town('太平', 'Taiping'),
      town('鳌头', 'Aotou'), town('良口', 'Liangkou'), town('吕田', 'Lyutian'),
    ],
  },
  {
    code: '440118', zh: '增城区', en: 'Zengcheng', population: 1.466, floatingShare: 0.32, urbanVillageRate: 0.06,
    streets: [
      s('荔城', 'Licheng'), s('增江', 'Zengjiang'), s('永宁', 'Yongning'), s('荔湖', 'Lihu'), s('宁西', 'Ningxi'),
      s('朱村', 'Zhucun'), town('新塘', 'Xintang'), town('石滩', 'Shitan'), town('中新', 'Zhongxin'), town('仙村', 'Xiancun'),
      town('派潭', 'Paitan'), town('小楼', 'Xiaolou'), town('正果', 'Zhengguo'),
    ],
  },
];

/** Guangzhou's 2020 census resident population (millions); the geography's full scale. */
export const FULL_SCALE_PERSONS = 18_700_000;

/** Stems for synthesised residents' committees (…社区). */
export const COMMUNITY_STEMS: readonly (readonly [string, string])[] = [
  ['东风', 'Dongfeng'], ['新风', 'Xinfeng'], ['华侨', 'Huaqiao'], ['花园', 'Huayuan'], ['南苑', 'Nanyuan'], ['北苑', 'Beiyuan'],
  ['东园', 'Dongyuan'], ['西园', 'Xiyuan'], ['新村', 'Xincun'], ['金沙', 'Jinsha'], ['银河', 'Yinhe'], ['长堤', 'Changdi'],
  ['光明', 'Guangming'], ['幸福', 'Xingfu'], ['和平', 'Heping'], ['友谊', 'Youyi'], ['文化', 'Wenhua'], ['育才', 'Yucai'],
  ['松园', 'Songyuan'], ['桂花', 'Guihua'], ['荔枝', 'Lizhi'], ['龙口', 'Longkou'], ['翠竹', 'Cuizhu'], ['锦绣', 'Jinxiu'],
  ['紫荆', 'Zijing'], ['棠德', 'Tangde'], ['金碧', 'Jinbi'], ['南华', 'Nanhua'], ['滨江', 'Binjiang'], ['江景', 'Jiangjing'],
  ['云山', 'Yunshan'], ['白鹤', 'Baihe'], ['兴隆', 'Xinglong'], ['永安', 'Yong\'an'], ['太平', 'Taiping'], ['万福', 'Wanfu'],
  ['大同', 'Datong'], ['德政', 'Dezheng'], ['仁和', 'Renhe'], ['同福', 'Tongfu'], ['宝岗', 'Baogang'], ['怡乐', 'Yile'],
  ['聚德', 'Jude'], ['丰乐', 'Fengle'], ['瑞祥', 'Ruixiang'], ['鸿福', 'Hongfu'], ['嘉和', 'Jiahe'], ['景云', 'Jingyun'],
  ['雅居', 'Yaju'], ['宏城', 'Hongcheng'], ['天润', 'Tianrun'], ['骏景', 'Junjing'], ['华景', 'Huajing'], ['逸景', 'Yijing'],
  ['丽江', 'Lijiang'], ['海印', 'Haiyin'], ['康王', 'Kangwang'], ['福安', 'Fu\'an'], ['中华', 'Zhonghua'], ['朝阳', 'Chaoyang'],
  ['东湖', 'Donghu'], ['西华', 'Xihua'], ['北园', 'Beiyuan'], ['南岸', 'Nan\'an'], ['广园', 'Guangyuan'], ['云景', 'Yunjing'],
  ['恒福', 'Hengfu'], ['集贤', 'Jixian'], ['翠园', 'Cuiyuan'], ['荔景', 'Lijing'], ['春晖', 'Chunhui'], ['岭南', 'Lingnan'],
  ['芳草', 'Fangcao'], ['金穗', 'Jinsui'], ['晓港', 'Xiaogang'], ['泰安', 'Tai\'an'], ['宝华', 'Baohua'], ['新民', 'Xinmin'],
  ['五羊', 'Wuyang'], ['明珠', 'Mingzhu'],
];

/** Stems for synthesised villages (…村), rural or urban. */
export const VILLAGE_STEMS: readonly (readonly [string, string])[] = [
  ['石岗', 'Shigang'], ['水口', 'Shuikou'], ['沙坑', 'Shakeng'], ['塘头', 'Tangtou'], ['大岭', 'Daling'], ['新围', 'Xinwei'],
  ['上塘', 'Shangtang'], ['下围', 'Xiawei'], ['高田', 'Gaotian'], ['黄竹', 'Huangzhu'], ['罗洞', 'Luodong'], ['龙岗', 'Longgang'],
  ['莲塘', 'Liantang'], ['元岭', 'Yuanling'], ['竹料', 'Zhuliao'], ['钟岗', 'Zhonggang'], ['清湖', 'Qinghu'], ['马岭', 'Maling'],
  ['石湖', 'Shihu'], ['鹤岗', 'Hegang'], ['东平', 'Dongping'], ['西岸', 'Xi\'an'], ['南浦', 'Nanpu'], ['北村', 'Beicun'],
  ['坑头', 'Kengtou'], ['田心', 'Tianxin'], ['岭头', 'Lingtou'], ['白沙', 'Baisha'], ['横岗', 'Henggang'], ['大塘', 'Datang'],
  ['山下', 'Shanxia'], ['松岗', 'Songgang'], ['桥头', 'Qiaotou'], ['沙涌', 'Shachong'], ['蚌湖', 'Banghu'], ['鸦岗', 'Yagang'],
  ['夏茅', 'Xiamao'], ['南岭', 'Nanling'], ['长腰岭', 'Changyaoling'], ['平沙', 'Pingsha'], ['茶塘', 'Chatang'], ['凤岗', 'Fenggang'],
  ['水西', 'Shuixi'], ['黄陂', 'Huangbei'], ['裕丰', 'Yufeng'], ['东坑', 'Dongkeng'], ['西湖', 'Xihu'], ['红星', 'Hongxing'],
];

/** Stems for synthesised roads; a suffix (路, 大道, 街) is added. */
export const ROAD_STEMS: readonly (readonly [string, string])[] = [
  ['中山', 'Zhongshan'], ['解放', 'Jiefang'], ['环市', 'Huanshi'], ['东风', 'Dongfeng'], ['广州大道', 'Guangzhou Avenue'],
  ['天河北', 'Tianhe North'], ['黄埔', 'Huangpu'], ['工业', 'Gongye'], ['江南', 'Jiangnan'], ['新港', 'Xingang'],
  ['昌岗', 'Changgang'], ['人民', 'Renmin'], ['沿江', 'Yanjiang'], ['禺山', 'Yushan'], ['迎宾', 'Yingbin'], ['建设', 'Jianshe'],
  ['府前', 'Fuqian'], ['新华', 'Xinhua'], ['荔城', 'Licheng'], ['石井', 'Shijing'], ['广园', 'Guangyuan'], ['机场', 'Jichang'],
  ['白云', 'Baiyun'], ['同德', 'Tongde'], ['金沙', 'Jinsha'], ['科学', 'Kexue'], ['开创', 'Kaichuang'], ['市桥', 'Shiqiao'],
  ['兴南', 'Xingnan'], ['清河', 'Qinghe'], ['凤凰', 'Fenghuang'], ['南岗', 'Nangang'], ['龙洞', 'Longdong'], ['瘦狗岭', 'Shougouling'],
  ['逢源', 'Fengyuan'], ['宝华', 'Baohua'], ['芳村', 'Fangcun'], ['花地', 'Huadi'], ['东涌', 'Dongchong'], ['进港', 'Jingang'],
];
